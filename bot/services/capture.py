"""Capturing wins where the work happens: a Slack message turned into a draft win (the "Record as
AI win" shortcut). Plain values in and out; the names of mentioned people are handed in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.services.wintext import mentions, parse_win_text

_TOKEN_RE = re.compile(r"<([^<>]*)>")
_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_ENTITY_CHARS = {"amp": "&", "lt": "<", "gt": ">"}
_USER_RE = re.compile(r"@([UW][A-Z0-9]+)(?:\|(.*))?", re.DOTALL)
_CHANNEL_RE = re.compile(r"#(C[A-Z0-9]+|G[A-Z0-9]+)(?:\|(.*))?", re.DOTALL)


def _unescape(text: str) -> str:
    return _ENTITY_RE.sub(lambda m: _ENTITY_CHARS[m.group(1)], text)


def mentioned_users(wire: str) -> tuple[str, ...]:
    return mentions(wire or "")


def readable_text(wire: str, name_of: Callable[[str], str | None]) -> str:
    """Message text in Slack's wire format → what a person reads: `@name` for a mention, `#name` for a
    channel, `@here`, a link's label with its target when they differ, entities decoded."""
    out: list[str] = []
    pos = 0
    for m in _TOKEN_RE.finditer(wire or ""):
        out.append(_unescape(wire[pos : m.start()]))
        pos = m.end()
        inner = m.group(1)
        if user := _USER_RE.fullmatch(inner):
            out.append("@" + (name_of(user.group(1)) or _unescape(user.group(2) or "") or user.group(1)))
        elif channel := _CHANNEL_RE.fullmatch(inner):
            out.append("#" + (_unescape(channel.group(2) or "") or channel.group(1)))
        elif inner.startswith("!"):
            command, _, label = inner[1:].partition("|")
            name = command.split("^", 1)[0]
            if name in ("here", "channel", "everyone"):
                out.append("@" + name)
            else:  # a user group or a date: its own fallback text
                out.append(_unescape(label) or "")
        else:
            url, _, label = inner.partition("|")
            url, label = _unescape(url), _unescape(label)
            out.append(f"{label} ({url})" if label and label != url else url)
    out.append(_unescape((wire or "")[pos:]))
    return "".join(out).strip()


@dataclass(frozen=True)
class Draft:
    """The win form filled from a message."""

    text: str
    recipients: tuple[str, ...]  # the message's author, when someone else records it
    tool: str | None
    minutes_saved: int | None
    source_channel: str
    source_ts: str
    source_thread_ts: str


def draft_from_message(message: dict[str, Any], channel_id: str, clicker_id: str,
                       name_of: Callable[[str], str | None]) -> Draft:
    """A shout-out for the message's author when someone else clicks; their own win when they click
    their own message. Tool and time come from the same parser as `/aiwin`."""
    wire = message.get("text") or ""
    parsed = parse_win_text(wire)
    author = message.get("user")
    recipients = (author,) if author and author != clicker_id and not message.get("bot_id") else ()
    ts = str(message.get("ts") or "")
    return Draft(
        text=readable_text(wire, name_of),
        recipients=recipients,
        tool=parsed.tool,
        minutes_saved=parsed.minutes_saved,
        source_channel=channel_id,
        source_ts=ts,
        source_thread_ts=str(message.get("thread_ts") or ts),
    )
