"""The one parser for win text: who, how much time, which AI tool, which #tags.

Input is a slash command's `text` in Slack's wire format, with "escape channels, users and links"
either ON or OFF:

* `<…>` tokens (`<@U…|name>`, `<#C…|name>`, `<https://…|label>`, `<!here>`…) are only ever made by
  Slack, because user-typed `&`, `<`, `>` arrive as `&amp;`, `&lt;`, `&gt;`. So the tokens are
  extracted first and only the text between them is unescaped (three entities, one pass).
* Recipients are the `<@U…>`/`<@W…>` mentions. With escaping OFF a typed `@alice` is just text: it
  is not a user id, so it is NOT a recipient here; resolving names is a later layer's job.

Everything is linear-time: each regex below either has no nested unbounded repetition or runs on a
bounded window, and the parser never raises on any str (any script, NULs, 40k chars).

Time-saved precedence (the first rule that applies decides):

1. a before/after pair: `2h → 20m`, `2h -> 20m`, `2h => 20m`, `2h down to 20m`, `from 2h to 20m`,
   `took 20m instead of 2h` (also `rather than`, `compared to`). Saved = before − after; a pair whose
   after ≥ before is not a saving (its durations are then ignored, and the result is usually None).
2. the first duration attached to a "saved" word: `saved 3h`, `saved us about 2.5 hours`,
   `time saved: 45m`, `45m saved`, `3h/week saved`. A trailing period (`a week`) is ignored.
3. otherwise exactly one duration in the whole text (`90 min`); with two or more and no pattern the
   answer is None rather than a guess.

Durations: digits (`2.5`, `2,5`, `1,000`) or words (`an`, `half an`, `twenty-five`, `a couple of`)
followed by hours (`h`, `hr(s)`, `hour(s)`) or minutes (`m`, `min(s)`, `minute(s)`); compounds like
`1h30m`, `1h 30m`, `1h30`, `2 hours and 15 minutes`, `an hour and a half`. Days/weeks are ignored. A lone
capital `M` is not minutes (`1M rows`), and money (`$5m`) is not time. Values are returned as
written (5000h is 300000) and rounded half-up to whole minutes; a value that does not fit the
database's 32-bit integer is treated as unparseable (None), never an overflow.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["KNOWN_TOOLS", "MAX_RECIPIENTS", "ParsedWin", "parse_duration", "parse_win_text", "readable_text"]

# The most people one win may name, whichever way it comes in: the form's people picker stops here, and
# a command or a Workflow step naming more is refused with a sentence saying so (nothing is recorded).
MAX_RECIPIENTS = 20

# Storage is a 32-bit INTEGER column; anything bigger is not a real answer anyway.
_MAX_MINUTES = 2**31 - 1


@dataclass(frozen=True)
class ParsedWin:
    text: str  # exactly the input, unchanged
    recipients: tuple[str, ...]  # user ids mentioned, in order, deduplicated; () means the caller's own win
    minutes_saved: int | None  # None when no time was found; negative for "saved -3h" (never counted)
    tool: str | None  # canonical display name, e.g. "ChatGPT"
    tags: tuple[str, ...]  # lower-cased tag words without '#', deduplicated, in order


# ---------------------------------------------------------------------------------------------
# Wire-format tokens

_TOKEN_RE = re.compile(r"<([^<>]*)>")
_USER_ID_RE = re.compile(r"[UW][A-Z0-9]+")
_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_ENTITY_CHARS = {"amp": "&", "lt": "<", "gt": ">"}
# Bare URLs (escaping OFF) are masked so "page#anchor" is no tag and "/1h30m/" no duration.
_BARE_URL_RE = re.compile(r"(?:\b(?:https?|ftp)://|\bmailto:|\bwww\.)\S+", re.IGNORECASE)
# What replaces a token or URL: not a word char, not a space, so "with <@U1>" names no tool.
_MASK = " \ufffc "


def _unescape(text: str) -> str:
    # One pass, so "&amp;lt;" becomes "&lt;" and not "<".
    return _ENTITY_RE.sub(lambda m: _ENTITY_CHARS[m.group(1)], text)


def _user_of(token: str) -> str | None:
    """The user id a `<…>` token's inside mentions (`@U123` or `@U123|name`), if it is a mention."""
    if token.startswith("@"):
        uid = token[1:].split("|", 1)[0]
        if _USER_ID_RE.fullmatch(uid):
            return uid
    return None


def mentions(text: str) -> tuple[str, ...]:
    """The people a wire-format text mentions, in order, once each: its recipients, without the rest of
    the parse (the export reads this for every win, to name them)."""
    return tuple(dict.fromkeys(u for m in _TOKEN_RE.finditer(text) if (u := _user_of(m.group(1)))))


def _split_wire(text: str) -> tuple[tuple[str, ...], str]:
    """Recipients, and the plain text with tokens masked and the three entities unescaped."""
    recipients: dict[str, None] = {}
    parts: list[str] = []
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        parts.append(_unescape(text[pos : m.start()]))
        parts.append(_MASK)
        pos = m.end()
        uid = _user_of(m.group(1))
        if uid:
            recipients.setdefault(uid, None)
    parts.append(_unescape(text[pos:]))
    plain = _BARE_URL_RE.sub(_MASK, "".join(parts))
    return tuple(recipients), plain


# ---------------------------------------------------------------------------------------------
# Durations

_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_FRACTIONS = {
    "half": "0.5", "half a": "0.5", "half an": "0.5", "a half": "0.5",
    "quarter": "0.25", "a quarter": "0.25", "quarter of a": "0.25", "quarter of an": "0.25",
    "a quarter of a": "0.25", "a quarter of an": "0.25",
    "three quarters": "0.75", "three quarters of a": "0.75", "three quarters of an": "0.75",
    "couple": "2", "a couple": "2", "couple of": "2", "a couple of": "2",
    "a": "1", "an": "1",
}


def _alt(words: dict[str, object]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_WORD_NUM = (
    r"(?:half\s+an?|a\s+half|(?:a\s+)?quarter(?:\s+of\s+an?)?|three\s+quarters(?:\s+of\s+an?)?"
    r"|half|(?:a\s+)?couple(?:\s+of)?"
    rf"|(?:{_alt(_TENS)})(?:[-\s](?:{_alt(_ONES)}))?|{_alt(_TEENS)}|{_alt(_ONES)}|an?)"
)
# Thousands separators first ("1,000"), then a decimal point or a 1-2 digit decimal comma ("2,5").
_DIGITS = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+|,\d{1,2}(?!\d))?"
_HALF = r"\s+and\s+a\s+half"
_HOUR_UNIT = r"hours?|hrs?|h"
_MIN_UNIT = r"minutes?|mins?|(?-i:m)"  # capital M is "million", not minutes
_NOT_LETTER = r"(?![^\W\d_])"  # "3 hats", "2 months", "5 ms" are not durations

_DURATION_RE = re.compile(
    # Not glued to a word, a number or a currency: "Q3h", "x2h", "$5m", "1.5" from its "5".
    r"(?<![\w$€£¥.,])(?:"
    rf"(?P<h_num>{_DIGITS}|{_WORD_NUM})(?P<h_half1>{_HALF})?(?:\s*|-)(?P<h_unit>{_HOUR_UNIT}){_NOT_LETTER}"
    rf"(?P<h_half2>{_HALF})?"
    rf"(?:\s*(?:and\s+)?(?P<hm_num>{_DIGITS}|{_WORD_NUM})(?:\s*|-)(?P<hm_unit>{_MIN_UNIT}){_NOT_LETTER}"
    r"|(?<=[hH])(?P<hm_bare>[0-5]\d)(?![\w.,]))?"  # "1h30", "2h45": minutes written right after the h
    rf"|(?P<m_num>{_DIGITS}|{_WORD_NUM})(?P<m_half>{_HALF})?(?:\s*|-)(?P<m_unit>{_MIN_UNIT}){_NOT_LETTER}"
    r")",
    re.IGNORECASE,
)

_FILLER = (
    r"(?:~|≈|about\s+|around\s+|roughly\s+|approx\.?\s*|approximately\s+|over\s+|nearly\s+|almost\s+"
    r"|just\s+|only\s+|under\s+)?"
)
_ARROW_GAP_RE = re.compile(rf"\s*(?:→|⟶|➜|➔|➙|➛|➝|➞|⇒|⟹|⇨|-+>|=+>|[—–]+>|~>|down\s+to)\s*{_FILLER}", re.I)
_TO_GAP_RE = re.compile(rf"\s+(?:down\s+)?to\s+{_FILLER}", re.I)
_FROM_BEFORE_RE = re.compile(rf"\bfrom\s+{_FILLER}$", re.I)
_INSTEAD_GAP_RE = re.compile(
    rf"\s+(?:instead\s+of|rather\s+than|compared\s+(?:to|with))\s+(?:the\s+)?(?:usual\s+)?{_FILLER}", re.I
)
# "saved" followed by up to four filler words in the same clause: "saved us about 2h", "time saved: 2h".
_SAVED_BEFORE_RE = re.compile(r"\bsav(?:e|ed|es|ing|ings)\b(?:[^\w.!?;\n]+\w+){0,4}?[^\w.!?;\n]*$", re.I)
_SAVED_AFTER_RE = re.compile(
    r"(?:\s*(?:/|per|a|an|each|every)\s*(?:week|wk|day|month|mo|sprint|year|yr|run|time))?"
    r"\s*(?:of\s+(?:time|work|effort|toil)\s+)?sav(?:ed|ing|ings)\b",
    re.I,
)
# A minus glued to the number ("-3h", "−3h"), but not a range ("2-3h") nor a dash with a space ("x - 3h").
_MINUS_RE = re.compile(r"(?:^|(?<=[^\w.,]))[-\u2212]$")
_WINDOW = 60  # how far around a duration we look for "saved" / "from": bounded, so linear


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    minutes: Decimal | None  # None when the number is too big to be real


def _number(raw: str) -> Decimal | None:
    raw = raw.strip().lower()
    if raw[0].isdigit():
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
            raw = raw.replace(",", "")
        raw = raw.replace(",", ".")
        if len(raw.split(".", 1)[0]) > 12:  # 400-digit numbers: unparseable, not an overflow
            return None
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the regex only lets digits through
            return None
    words = " ".join(raw.replace("-", " ").split())
    if words in _FRACTIONS:
        return Decimal(_FRACTIONS[words])
    total = 0
    for w in words.split():
        value = _ONES.get(w) or _TEENS.get(w) or _TENS.get(w)
        if value is None:
            return None
        total += value
    return Decimal(total)


def _is_word(raw: str) -> bool:
    return not raw[:1].isdigit()


def _span(m: re.Match[str]) -> _Span | None:
    """Minutes for one duration match; None when it is not a duration after all ("a h")."""
    g = m.groupdict()
    if g["h_num"] is not None:
        parts = [(g["h_num"], g["h_unit"], 60, g["h_half1"] or g["h_half2"])]
        if g["hm_num"] is not None:
            parts.append((g["hm_num"], g["hm_unit"], 1, None))
        elif g["hm_bare"] is not None:
            parts.append((g["hm_bare"], "min", 1, None))
    else:
        parts = [(g["m_num"], g["m_unit"], 1, g["m_half"])]
    total = Decimal(0)
    for num, unit, factor, half in parts:
        if _is_word(num) and len(unit) == 1:  # "an h", "a m", "am": words need a spelled unit
            return None
        value = _number(num)
        if value is None:
            return _Span(m.start(), m.end(), None)
        if half:
            value += Decimal("0.5")
        total += value * factor
    if _MINUS_RE.search(m.string, max(0, m.start() - 2), m.start()):
        total = -total  # "saved -3h": a negative time, never counted as 3 h
    return _Span(m.start(), m.end(), total)


def _spans(text: str) -> list[_Span]:
    return [s for m in _DURATION_RE.finditer(text) if (s := _span(m)) is not None]


def _to_int(minutes: Decimal | None) -> int | None:
    """Whole minutes; negative stays negative (the caller refuses it and says why)."""
    if minutes is None:
        return None
    value = int(abs(minutes).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if value > _MAX_MINUTES:
        return None
    return -value if minutes < 0 else value


def _clause_before(text: str, span: _Span, floor: int) -> str:
    return text[max(floor, span.start - _WINDOW) : span.start]


def _minutes_in(text: str) -> int | None:
    """Time saved in plain (already unescaped) text, by the precedence in the module docstring."""
    spans = _spans(text)
    in_pair: set[int] = set()
    pair_result: Decimal | None = None
    found_pair = False
    for i in range(len(spans) - 1):
        a, b = spans[i], spans[i + 1]
        gap = text[a.end : b.start]
        from_to = _TO_GAP_RE.fullmatch(gap) and _FROM_BEFORE_RE.search(_clause_before(text, a, 0))
        if _ARROW_GAP_RE.fullmatch(gap) or from_to:
            before, after = a.minutes, b.minutes
        elif _INSTEAD_GAP_RE.fullmatch(gap):
            before, after = b.minutes, a.minutes
        else:
            continue
        in_pair.update((i, i + 1))
        if not found_pair and before is not None and after is not None and 0 <= after < before:
            found_pair, pair_result = True, before - after
    if found_pair:
        return _to_int(pair_result)

    free = [(i, s) for i, s in enumerate(spans) if i not in in_pair]
    for i, s in free:
        floor = spans[i - 1].end if i > 0 else 0
        if _SAVED_BEFORE_RE.search(_clause_before(text, s, floor)) or _SAVED_AFTER_RE.match(
            text, s.end, s.end + _WINDOW
        ):
            return _to_int(s.minutes)
    if len(free) == 1:
        return _to_int(free[0][1].minutes)
    return None


def parse_duration(text: str) -> int | None:
    """Minutes in a plain-text time like "3h", "2.5 hours", "45m", "1h30m", "90 min", "2h → 20m".

    Same rules as the win text (so "about 3h a week" is 180). A bare number ("90") is None: it
    does not say whether it means minutes or hours, and a negative time ("-3h") is None too."""
    try:
        minutes = _minutes_in(text)
    except Exception:  # a parser of user text must never raise
        return None
    return minutes if minutes is None or minutes >= 0 else None


# ---------------------------------------------------------------------------------------------
# Tools

# (canonical, pattern, mode). mode "any": any case; "cap": a common English word, so it counts only
# when capitalised or right after with/using/via/in/through ("moved the cursor" is no tool);
# "ctx": only after those words ("shipped v0 of the API").
_TOOL_SPECS: tuple[tuple[str, str, str], ...] = (
    ("ChatGPT", r"chat[-\s]?gpt(?:[-\s]?\d+(?:\.\d+)?o?)?", "any"),
    ("ChatGPT", r"gpt(?:[-\s]?\d+(?:\.\d+)?o?)?", "any"),
    ("Claude", r"claude", "any"),
    ("Copilot", r"(?:github\s+|microsoft\s+|ms\s+|m365\s+)?co-?pilot", "any"),
    ("Gemini", r"gemini", "any"),
    ("Cursor", r"cursor", "cap"),
    ("Perplexity", r"perplexity", "any"),
    ("Midjourney", r"mid[-\s]?journey", "any"),
    ("DALL-E", r"dall[-\s·]?e(?:[-\s]?\d)?", "any"),
    ("Notion AI", r"notion[-\s]?ai", "any"),
    ("Grammarly", r"grammarly", "any"),
    ("Otter", r"otter\.ai", "any"),
    ("Otter", r"otter", "cap"),
    ("Fireflies", r"fireflies(?:\.ai)?", "any"),
    ("Windsurf", r"windsurf", "any"),
    ("v0", r"v0\.dev", "any"),
    ("v0", r"v0", "ctx"),
    ("Lovable", r"lovable", "cap"),
    ("Replit", r"replit", "any"),
    ("Codeium", r"codeium", "any"),
    ("Jasper", r"jasper", "any"),
    ("Runway", r"runway", "cap"),
    ("ElevenLabs", r"eleven[-\s]?labs", "any"),
    ("Whisper", r"whisper", "cap"),
    ("Llama", r"llama(?:[-\s]?\d+(?:\.\d+)?)?", "any"),
    ("Mistral", r"mistral", "any"),
    ("DeepSeek", r"deep[-\s]?seek", "any"),
    ("NotebookLM", r"notebook[-\s]?lm", "any"),
    ("Zapier AI", r"zapier[-\s]?ai", "any"),
    ("Grok", r"grok", "cap"),
)
KNOWN_TOOLS: tuple[str, ...] = tuple(dict.fromkeys(name for name, _, _ in _TOOL_SPECS))

_TOOL_RE = re.compile(
    r"(?<!\w)(?:" + "|".join(f"(?P<t{i}>{pat})" for i, (_, pat, _) in enumerate(_TOOL_SPECS)) + r")(?!\w)",
    re.IGNORECASE,
)
_TOOL_CONTEXT_RE = re.compile(r"(?<!\w)(?:with|using|via|in|through)\s+$", re.IGNORECASE)
_INTRO_RE = re.compile(r"(?<!\w)(?:with|using|via)\s+(\S+)", re.IGNORECASE)
# Capitalised words after "with"/"using" that are not tool names.
_NOT_TOOLS = frozenset((
    "a", "an", "the", "my", "our", "your", "their", "his", "her", "its", "this", "that", "these", "those",
    "it", "i", "me", "us", "them", "him", "some", "all", "any", "no", "ai", "genai", "llm", "llms", "help",
))
_MAX_TOOL_LEN = 40


def _known_tool(text: str) -> str | None:
    for m in _TOOL_RE.finditer(text):
        idx = int(next(k for k, v in m.groupdict().items() if v is not None)[1:])
        name, _, mode = _TOOL_SPECS[idx]
        if mode == "any":
            return name
        in_context = bool(_TOOL_CONTEXT_RE.search(text, max(0, m.start() - 20), m.start()))
        if in_context or (mode == "cap" and m.group(0)[0].isupper()):
            return name
    return None


def _introduced_tool(text: str) -> str | None:
    """`with Tabnine` / `using Bard` / `via Zed2`: a capitalised word or one with a digit, as typed."""
    for m in _INTRO_RE.finditer(text):
        word = m.group(1).lstrip("\"'“‘«(").rstrip(".,;:!?)]}\"'”’»…")
        if not word or len(word) > _MAX_TOOL_LEN or not word[0].isalnum():
            continue  # "@alice", "#tag", a masked token
        if word.lower() in _NOT_TOOLS or _DURATION_RE.fullmatch(word):
            continue
        has_letter = any(c.isalpha() for c in word)
        if has_letter and (word[0].isupper() or any(c.isdigit() for c in word)):
            return word
    return None


# ---------------------------------------------------------------------------------------------
# Tags


def _is_tag_char(ch: str) -> bool:
    return ch in "_-" or unicodedata.category(ch)[0] in "LNM"  # letters, digits, combining marks


def _tags(text: str) -> tuple[str, ...]:
    """`#word` not glued to a word or an `&` (so "C#", "page#x" and "&#123;" are no tags).

    A tag needs at least one letter: "PR #482" is a reference, not a tag."""
    found: dict[str, None] = {}
    n = len(text)
    i = text.find("#")
    while i != -1:
        j = i + 1
        prev = text[i - 1] if i else ""
        glued = bool(prev) and (prev in "&#" or _is_tag_char(prev))
        if not glued and j < n and (text[j] == "_" or unicodedata.category(text[j])[0] in "LN"):
            while j < n and _is_tag_char(text[j]):
                j += 1
            word = text[i + 1 : j].rstrip("-").lower()
            if any(c.isalpha() for c in word):
                found.setdefault(word, None)
        i = text.find("#", j)
    return tuple(found)


# ---------------------------------------------------------------------------------------------


def parse_win_text(text: str) -> ParsedWin:
    """Understand a win from slash-command text (wire format, escaping ON or OFF). Never raises."""
    try:
        recipients, plain = _split_wire(text)
    except Exception:  # defensive: any str must give an answer, never a stack trace
        return ParsedWin(text, (), None, None, ())
    minutes = tool = None
    tags: tuple[str, ...] = ()
    try:
        minutes = _minutes_in(plain)
    except Exception:
        minutes = None
    try:
        tool = _known_tool(plain) or _introduced_tool(plain)
    except Exception:
        tool = None
    try:
        tags = _tags(plain)
    except Exception:
        tags = ()
    return ParsedWin(text=text, recipients=recipients, minutes_saved=minutes, tool=tool, tags=tags)


# ---------------------------------------------------------------------------------------------
# What a person reads

_SEPARATOR_RE = re.compile(r"(?:\s|,|&amp;|\band\b)*", re.IGNORECASE)  # wire text: "&" arrives as "&amp;"


def _readable_token(inner: str, names: Mapping[str, str]) -> str:
    head, bar, label = inner.partition("|")
    label = _unescape(label)
    if inner.startswith("@"):
        uid = head[1:]
        return "@" + (names.get(uid) or label.lstrip("@") or uid)
    if inner.startswith("#"):
        return "#" + (label.lstrip("#") or head[1:])
    if inner.startswith("!"):
        command = head[1:]
        name = command.split("^", 1)[0]
        if name.lower() in ("here", "channel", "everyone"):
            return "@" + name.lower()
        if name == "subteam":
            return "@" + (label.lstrip("@") or command.partition("^")[2] or "group")
        return label or "@" + command  # <!date^…|fallback> → what Slack shows without the markup
    url = _unescape(head)
    shown = url[len("mailto:"):] if url.lower().startswith("mailto:") else url
    if not label or label in (url, shown):
        return shown
    return f"{label} ({shown})"  # the label and where it really goes


def readable_text(
    text: str,
    text_format: str = "wire",
    *,
    names: Mapping[str, str] | None = None,
    omit_leading: Collection[str] = (),
) -> str:
    """A win's text as the person wrote it (for the edit form, exports, anything that is not mrkdwn).

    Plain text (`text_format` "plain", typed into the modal) is returned unchanged. Wire text:
    `<@U1|alice>` → `@alice` (a name from `names` first, then the `|name` Slack sent, else the id);
    `<#C1|general>` → `#general`; `<!channel>` → `@channel`; `<!subteam^S1|@design>` → `@design`;
    `<https://x|docs>` → `docs (https://x)`, `<https://x>` → `https://x`, `<mailto:a@b|a@b>` →
    `a@b`; `&amp;` `&lt;` `&gt;` → `& < >` (one pass, so a typed "&lt;" stays "&lt;").
    Mentions of `omit_leading` users at the very start (with the spaces, commas and "and" between
    them) are left out, because the edit form shows them in its people picker; never all of the
    text. Never raises on any str."""
    if text_format != "wire":
        return text
    names = names or {}
    parts: list[str] = []
    pos = 0
    leading = bool(omit_leading)  # still inside the run of leading recipient mentions
    omitted = False
    for m in _TOKEN_RE.finditer(text):
        between = text[pos : m.start()]
        inner = m.group(1)
        pos = m.end()
        if leading and _SEPARATOR_RE.fullmatch(between) and inner.startswith("@") and (
            inner[1:].partition("|")[0] in omit_leading
        ):
            omitted = True
            continue
        if leading and omitted:
            between = between[_SEPARATOR_RE.match(between).end() :]
        leading = False
        parts.append(_unescape(between))
        parts.append(_readable_token(inner, names))
    tail = text[pos:]
    if leading and omitted:
        tail = tail[_SEPARATOR_RE.match(tail).end() :]
    parts.append(_unescape(tail))
    result = "".join(parts)
    if omitted and not result.strip():
        return readable_text(text, text_format, names=names)
    return result
