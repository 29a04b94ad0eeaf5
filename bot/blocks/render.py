"""Block Kit to terminal text, for the CLI and the demo ("what Slack would have shown").

mrkdwn is rendered the way a Slack client shows it, in terminal terms: mentions as @name, channels as
#name, links as "label (url)", emoji names as the emoji, *bold* and _italic_ as terminal styles (or plain
text when `style` is off, e.g. when the output is not a terminal), entities decoded."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(r"<([^<>]*)>|`[^`\n]*`")
_USER = re.compile(r"@([UW][A-Z0-9]+)")
_CHANNEL = re.compile(r"#([CGD][A-Z0-9]+)")
_LINK = re.compile(r"(?:https?|mailto):\S+", re.IGNORECASE)
_EMOJI = re.compile(r":([a-z0-9_+-]+):(?::skin-tone-[2-6]:)?")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_HOLE = re.compile("\ue000(\\d+)\ue001")
_ENTITY = re.compile(r"&(amp|lt|gt);")

# The emoji the bot writes (and a few people react with). Others stay ":name:", as Slack shows a name it
# has no picture for.
EMOJI = {
    "trophy": "🏆", "white_check_mark": "✅", "robot_face": "🤖", "stopwatch": "⏱️", "mortar_board": "🎓",
    "seedling": "🌱", "warning": "⚠️", "bar_chart": "📊", "compass": "🧭", "speech_balloon": "💬",
    "star": "⭐", "star2": "🌟", "wave": "👋", "eyes": "👀", "no_bell": "🔕", "bell": "🔔", "tada": "🎉",
    "calendar": "📆", "clipboard": "📋", "memo": "📝", "bulb": "💡", "rocket": "🚀", "hourglass": "⌛",
    "raised_hands": "🙌", "clap": "👏", "books": "📚", "lock": "🔒", "wastebasket": "🗑️", "x": "❌",
    "information_source": "ℹ️", "thumbsup": "👍", "+1": "👍", "pencil2": "✏️", "inbox_tray": "📥",
    "chart_with_upwards_trend": "📈", "busts_in_silhouette": "👥", "scroll": "📜", "mag": "🔍",
    "raising_hand": "🙋", "slightly_smiling_face": "🙂",
}
BOLD, ITALIC, RESET = "\033[1m", "\033[3m", "\033[0m"


def _same(label: str, url: str) -> bool:
    strip = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
    return strip.sub("", label).rstrip("/").lower() == strip.sub("", url).rstrip("/").lower()


def _fill(held: list[str], m: re.Match[str]) -> str:
    i = int(m.group(1))
    return held[i] if i < len(held) else m.group(0)  # a private-use character the person typed


def _token(inner: str, name_of: Callable[[str], str], channel_of: Callable[[str], str]) -> str:
    head, _, label = inner.partition("|")
    if m := _USER.fullmatch(head):
        return "@" + name_of(m.group(1))
    if m := _CHANNEL.fullmatch(head):
        return "#" + (label or channel_of(m.group(1)))
    if head.startswith("!"):
        command = head[1:].split("^", 1)[0]
        if command in ("here", "channel", "everyone"):
            return "@" + command
        return label or ("@" + command)  # subteam (its label is "@name"), date (its fallback)
    if _LINK.fullmatch(head):
        return head if not label or _same(label, head) else f"{label} ({head})"
    return f"<{inner}>"


def to_text(mrkdwn: str, name_of: Callable[[str], str] | None = None,
            channel_of: Callable[[str], str] | None = None, *, style: bool = False) -> str:
    """Readable text from mrkdwn, as a Slack client would show it (see the module docstring)."""
    name_of = name_of or (lambda u: u)
    channel_of = channel_of or (lambda c: c)
    held: list[str] = []

    def hold(m: re.Match[str]) -> str:
        # Tokens and code spans are set aside so bold/italic never reach inside them.
        whole = m.group(0)
        held.append(_token(m.group(1), name_of, channel_of) if m.group(1) is not None else whole)
        return f"\ue000{len(held) - 1}\ue001"

    text = _TOKEN.sub(hold, mrkdwn.replace("\u200b", ""))
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    on_b, on_i, off = (BOLD, ITALIC, RESET) if style else ("", "", "")
    text = _BOLD.sub(lambda m: on_b + m.group(1) + off, text)
    text = _ITALIC.sub(lambda m: on_i + m.group(1) + off, text)
    text = _STRIKE.sub(lambda m: m.group(1), text)
    text = _HOLE.sub(lambda m: _fill(held, m), text)
    return _ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def typed(wire: str, name_of: Callable[[str], str] | None = None,
          channel_of: Callable[[str], str] | None = None) -> str:
    """Slash-command text (wire format) as the person typed it: "@alice", "@channel", "#reporting", the
    URL, "<b>" (no emoji or styles: those were typed as characters)."""
    name_of = name_of or (lambda u: u)
    channel_of = channel_of or (lambda c: c)
    held: list[str] = []

    def hold(m: re.Match[str]) -> str:
        inner = m.group(1)
        if inner is None:
            return m.group(0)
        head, _, label = inner.partition("|")
        held.append(head if _LINK.fullmatch(head) else _token(inner, name_of, channel_of))
        return f"\ue000{len(held) - 1}\ue001"

    text = _TOKEN.sub(hold, wire)
    text = _ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)
    return _HOLE.sub(lambda m: _fill(held, m), text)


def _plain(obj: dict[str, Any] | None) -> str:
    """A plain_text object as shown: emoji names become emoji when `emoji` is on (the default)."""
    if not obj:
        return ""
    text = obj.get("text", "")
    if obj.get("type") == "plain_text" and obj.get("emoji", True):
        text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    return text


def blocks_to_text(blocks: list[dict[str, Any]], name_of: Callable[[str], str] | None = None,
                   channel_of: Callable[[str], str] | None = None, *, style: bool = False) -> str:
    def md(obj: dict[str, Any]) -> str:
        if obj.get("type") == "mrkdwn":
            return to_text(obj.get("text", ""), name_of, channel_of, style=style)
        return _plain(obj)

    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _plain(block["text"])
            lines += [(BOLD + title + RESET) if style else title, "=" * min(len(title), 60)]
        elif kind == "section":
            if block.get("text"):
                lines.append(md(block["text"]))
            for f in block.get("fields", []):
                lines.append("  " + md(f))
        elif kind == "context":
            lines.append("  " + "  ".join(md(e) for e in block.get("elements", []) if e.get("text")))
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append("  " + "  ".join(f"[{_plain(e['text'])}]" for e in block.get("elements", [])
                                          if e.get("type") == "button"))
        elif kind == "input":
            element = block.get("element") or {}
            optional = " (optional)" if block.get("optional") else ""
            value = element.get("initial_value")
            placeholder = _plain(element.get("placeholder"))
            shown = f"[{value}]" if value else "________" + (f" ({placeholder})" if placeholder else "")
            lines.append(f"  {_plain(block['label'])}{optional}: {shown}")
    return "\n".join(lines)


def view_to_text(view: dict[str, Any], name_of: Callable[[str], str] | None = None,
                 channel_of: Callable[[str], str] | None = None, *, style: bool = False) -> str:
    """A modal as Slack shows it: its title, its blocks, then its Cancel and Submit buttons."""
    title = _plain(view.get("title"))
    buttons = "  ".join(f"[{_plain(view[k])}]" for k in ("close", "submit") if view.get(k))
    body = blocks_to_text(view.get("blocks", []), name_of, channel_of, style=style)
    return "\n".join(x for x in ((BOLD + title + RESET) if style else title, "=" * min(len(title), 60),
                                 body, buttons) if x)
