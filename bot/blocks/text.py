"""The one place that makes user text safe for Block Kit (its length limits and mrkdwn tokens).

* `escape`: plain user text → mrkdwn-safe text (entities + defused @here/@channel/@everyone).
* `render_wire_text`: slash-command text (Slack wire format) → mrkdwn that keeps user/channel
  mentions and http(s)/mailto links, and turns every special mention into harmless text.
* `truncate`: shorten escaped mrkdwn without breaking an entity, a `<…>` token or a character
  sequence (combining marks, ZWJ emoji, flags).
* `plain`: text for plain_text objects (headers, buttons, options, modal titles).
* `mrkdwn`: the bot's own copy (help, prompts, confirmations, footers) → valid mrkdwn: a `<` that
  does not open a Slack token (`/aiwin teachbacks done <id>`) is written as `&lt;`. The block
  builders in bot/blocks/common.py pass every mrkdwn text through it, so copy never needs escaping by hand.

Every function here also drops Unicode bidirectional controls, which can make text read differently
from what it is (a link target shown backwards, "exe.txt" that is really "txt.exe").
"""

from __future__ import annotations

import bisect
import re
import unicodedata

__all__ = ["escape", "mrkdwn", "plain", "render_wire_text", "strip_bidi", "truncate"]

ZWSP = "\u200b"
ELLIPSIS = "…"

# A zero-width space after the "@" stops Slack from ever reading a special mention.
_SPECIAL_AT_RE = re.compile(r"@(?=here|channel|everyone)", re.IGNORECASE)
_TOKEN_RE = re.compile(r"<([^<>]*)>")
_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_ENTITY_CHARS = {"amp": "&", "lt": "<", "gt": ">"}
_USER_ID_RE = re.compile(r"[UW][A-Z0-9]+")
_CHANNEL_ID_RE = re.compile(r"C[A-Z0-9]+")
_LINK_URL_RE = re.compile(r"(https?://|mailto:)[^\s<>|]+", re.IGNORECASE)
_ENTITIES = ("&amp;", "&lt;", "&gt;")
_SPAN_RE = re.compile(r"<[^<>]*>?")
_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# Embeddings/overrides U+202A–U+202E, isolates U+2066–U+2069, and the marks LRM/RLM/ALM: invisible,
# and enough to make "moc.live//:sptth" display as a trusted address. Right-to-left scripts read
# correctly without them.
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_LINK_LABEL_SCHEME_RE = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
# What Slack reads as a token in mrkdwn; any other "<" in our own copy is shown as text.
_VALID_TOKEN_RE = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!date\^\d+\^[^|<>]*(?:\^[^|<>]*)?"
    r"|(?:https?://|mailto:)[^\s<>|]+)(?:\|[^<>]*)?>"
)


def strip_bidi(text: str) -> str:
    """`text` without Unicode bidirectional controls (see the module docstring)."""
    return _BIDI_RE.sub("", text)


def _defuse(text: str) -> str:
    return _SPECIAL_AT_RE.sub("@" + ZWSP, text)


def _entities(text: str) -> str:
    # "&" first, or the "&" of "&lt;" would be escaped again.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    # One pass, so a typed "&lt;" (wire "&amp;lt;") stays "&lt;".
    return _ENTITY_RE.sub(lambda m: _ENTITY_CHARS[m.group(1)], text)


def escape(text: str) -> str:
    """User plain text → safe mrkdwn/plain_text: `&`→`&amp;`, `<`→`&lt;`, `>`→`&gt;`, and a
    U+200B after the `@` of @here/@channel/@everyone (any case), bidi controls dropped. Nothing else
    changes."""
    return _defuse(_entities(strip_bidi(text)))


def mrkdwn(copy: str) -> str:
    """The bot's own mrkdwn (which may hold mentions, links and already-escaped user text) with every
    `<` that does not open a Slack token written as `&lt;` (and its `>` as `&gt;`), so placeholders
    like `<id>` show as typed. Idempotent. Special mentions (`<!here>`…) are never kept: the bot
    pings no one."""
    out: list[str] = []
    pos = 0
    while True:
        lt = copy.find("<", pos)
        if lt == -1:
            out.append(copy[pos:])
            break
        out.append(copy[pos:lt])
        m = _VALID_TOKEN_RE.match(copy, lt)
        if m:
            out.append(m.group())
            pos = m.end()
            continue
        gt = copy.find(">", lt)
        nxt = copy.find("<", lt + 1)
        if gt != -1 and (nxt == -1 or gt < nxt):
            out.append("&lt;" + copy[lt + 1 : gt] + "&gt;")
            pos = gt + 1
        else:
            out.append("&lt;")
            pos = lt + 1
    return strip_bidi("".join(out))


def _special_text(inner: str) -> str:
    """`<!here>`, `<!subteam^S1|@team>`, `<!date^…|fallback>` → raw text that pings no one."""
    command, _, label = inner[1:].partition("|")
    name = command.split("^", 1)[0].lower()
    if name in ("here", "channel", "everyone"):
        return "@" + ZWSP + name
    if name == "subteam":
        return "@" + ZWSP + (_unescape(label).lstrip("@") or "group")
    if name == "date":
        return _unescape(label)
    return _unescape(label) if label else "@" + ZWSP + _unescape(command)


def same_target(label: str, url: str) -> bool:
    """True when a link's label names its own target: equal once the scheme, the host's case and a
    trailing "/" are set aside (Slack itself sends a typed "example.com" as
    `<http://example.com|example.com>` and a typed address as `<mailto:a@b.c|a@b.c>`)."""
    def norm(s: str) -> str:
        s = _LINK_LABEL_SCHEME_RE.sub("", s.strip())
        host, sep, rest = s.partition("/")
        return (host.lower() + sep + rest).rstrip("/")
    return bool(norm(label)) and norm(label) == norm(url)


def _render_token(inner: str) -> tuple[str | None, str]:
    """(markup to keep, "") for a mention/channel/link we keep; (None, raw text to escape) for a token
    shown as text; (markup, raw text shown before it) for a link whose label is not its target."""
    head, _, label = inner.partition("|")
    if inner.startswith("@"):
        if _USER_ID_RE.fullmatch(head[1:]):
            return f"<@{head[1:]}>", ""  # the |name part is stale the moment a user renames
        return None, _unescape(label or head)
    if inner.startswith("#"):
        if _CHANNEL_ID_RE.fullmatch(head[1:]):
            return f"<#{head[1:]}>", ""
        return None, "#" + _unescape(label) if label else _unescape(head)
    if inner.startswith("!"):
        return None, _special_text(inner)
    url = _unescape(head)
    m = _LINK_URL_RE.fullmatch(url)
    if m is None:
        if _SCHEME_RE.match(url):  # javascript:, ftp:, slack:// … are shown as text, never as links
            return None, _unescape(label or head)
        return None, _unescape(f"<{inner}>")  # not a Slack token at all: show it as it was
    url = m.group(1).lower() + url[len(m.group(1)) :]  # lower-case scheme: "<HTTP" is not a link we make
    label = strip_bidi(_unescape(label)).strip()
    safe_url = url.replace("&", "&amp;")
    if not label or same_target(label, url):
        # Slack sends a typed "example.com" as <http://example.com|example.com>: keep that label.
        text = escape(re.sub(r"[|<>]", "", label))
        return (f"<{safe_url}|{text}>" if text else f"<{safe_url}>"), ""
    # A label that differs from the target could lie about it ("https://intranet…" on an evil link):
    # the label becomes plain text and the real target is the link.
    return f"<{safe_url}>)", f"{label} ("


def render_wire_text(text: str) -> str:
    """Slash-command text (wire format) → mrkdwn: keeps `<@U…>`/`<@W…>`/`<#C…>` (without names) and
    http(s)/mailto links, with their label only when it names the target itself (else
    "label (<target>)", so no label can disguise where a link goes); special mentions become plain
    "@\u200bhere"; the text between tokens is unescaped then escaped. The result never contains `<!`
    nor a bidi control."""
    text = strip_bidi(text)
    out: list[str] = []
    raw: list[str] = []  # text since the last kept token, escaped as one piece so "@" + "here" can't join
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        raw.append(_unescape(text[pos : m.start()]))
        keep, as_text = _render_token(m.group(1))
        if keep is None:
            raw.append(as_text)
        else:
            raw.append(as_text)
            out.append(escape("".join(raw)))
            out.append(keep)
            raw = []
        pos = m.end()
    raw.append(_unescape(text[pos:]))
    out.append(escape("".join(raw)))
    return "".join(out)


def _is_extender(ch: str) -> bool:
    """Characters that belong to the character before them (so we never cut just before one)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch == "\u200d"  # zero-width joiner
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _grapheme_cut(s: str, cut: int) -> int:
    # A mark after the ">" of a token or the ";" of an entity does not glue to it: cut there.
    while 0 < cut < len(s) and s[cut - 1] not in ">;" and (
        _is_extender(s[cut]) or (s[cut - 1] == "\u200d" and not s[cut].isascii())
    ):
        cut -= 1
    if 0 < cut < len(s) and _is_regional(s[cut]) and _is_regional(s[cut - 1]):
        # Flags are pairs of regional indicators: keep an even number before the cut.
        run = cut
        while run > 0 and _is_regional(s[run - 1]):
            run -= 1
        if (cut - run) % 2:
            cut -= 1
    return cut


def _entity_cut(s: str, cut: int) -> int:
    amp = s.rfind("&", max(0, cut - 4), cut)
    if amp != -1 and any(s.startswith(e, amp) and amp + len(e) > cut for e in _ENTITIES):
        return amp  # never leave "&am"
    return cut


def truncate(escaped: str, limit: int, suffix: str = ELLIPSIS) -> str:
    """Shorten escaped mrkdwn to at most `limit` characters (Slack counts characters, as `len`
    does), cutting before an entity, a `<…>` token or a combining sequence, then adding `suffix`."""
    if limit < len(suffix) + 1:
        raise ValueError(f"limit {limit} leaves no room for any text before {suffix!r}")
    if len(escaped) <= limit:
        return escaped
    cut = limit - len(suffix)
    # The `<…>` spans before the cut, found once so the loop below stays linear. A span that has not
    # closed by the cut (or a stray "<") reaches past it.
    spans = [(m.start(), m.end() if m.group().endswith(">") else len(escaped))
             for m in _SPAN_RE.finditer(escaped, 0, cut)]
    starts = [start for start, _ in spans]
    while True:  # every step only moves the cut left, so this ends
        new = _entity_cut(escaped, _grapheme_cut(escaped, cut))
        i = bisect.bisect_left(starts, new) - 1  # the last span starting before the cut
        if i >= 0 and new < spans[i][1]:
            new = spans[i][0]  # never leave half a "<https://…|label>"
        if new == cut:
            break
        cut = new
    return escaped[:cut].rstrip() + suffix


def plain(text: str, limit: int) -> str:
    """Text for a plain_text object (header 150, button/option 75, modal title 24): Slack shows
    `&<>` literally there, so only the special mentions are defused (and bidi controls dropped);
    cut to `limit` with "…"."""
    if limit < len(ELLIPSIS) + 1:
        raise ValueError(f"limit {limit} leaves no room for any text")
    text = _defuse(strip_bidi(text))
    if len(text) <= limit:
        return text
    cut = _grapheme_cut(text, limit - len(ELLIPSIS))
    return text[:cut].rstrip() + ELLIPSIS
