"""`/aiwin <subcommand> …`: which words are subcommands, and what each does.

A subcommand has an `ack` part that runs before the HTTP answer (fast: database only; its
return value is the ephemeral answer) and/or a `lazy` part that runs after it (Slack calls;
it answers with `respond`). Text that starts with no subcommand is a win."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.services.storable import storable


@dataclass(frozen=True)
class Call:
    team_id: str
    enterprise_id: str | None
    user_id: str
    channel_id: str | None
    text: str  # what follows the subcommand word (the whole text for a win)
    trigger_id: str | None
    response_url: str | None


AckFn = Callable[[Call, Deps], dict[str, Any] | None]
LazyFn = Callable[[Call, Deps, WebClient, Respond], None]


@dataclass(frozen=True)
class Subcommand:
    ack: AckFn | None = None
    lazy: LazyFn | None = None


SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(*names: str, ack: AckFn | None = None, lazy: LazyFn | None = None) -> None:
    for name in names:
        SUBCOMMANDS[name] = Subcommand(ack=ack, lazy=lazy)


def split(text: str) -> tuple[str, str]:
    """('narrate', 'the rest') for 'narrate the rest'; ('', text) when the first word is no subcommand."""
    stripped = (text or "").strip()
    word, _, rest = stripped.partition(" ")
    key = word.lower()
    if key in SUBCOMMANDS:
        return key, rest.strip()
    return "", stripped


def call_from(command: dict[str, Any], text: str) -> Call:
    return Call(
        team_id=command.get("team_id") or "",
        enterprise_id=command.get("enterprise_id") or None,
        user_id=command.get("user_id") or "",
        channel_id=command.get("channel_id") or None,
        text=storable(text),  # a %00 in the form body: PostgreSQL cannot store NUL (services/storable.py)
        trigger_id=command.get("trigger_id") or None,
        response_url=command.get("response_url") or None,
    )
