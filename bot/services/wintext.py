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

Time saved is read by bot/services/durations.py (its docstring has the rules).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.services.durations import DURATION_RE, minutes_in, parse_duration

__all__ = ["KNOWN_TOOLS", "MAX_RECIPIENTS", "ParsedWin", "parse_duration", "parse_win_text", "readable_text"]

# The most people one win may name, whichever way it comes in: the form's people picker stops here, and
# a command or a Workflow step naming more is refused with a sentence saying so (nothing is recorded).
MAX_RECIPIENTS = 20


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
        if word.lower() in _NOT_TOOLS or DURATION_RE.fullmatch(word):
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
        minutes = minutes_in(plain)
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
