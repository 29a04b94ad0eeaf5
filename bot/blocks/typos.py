"""The private "did you mean `/aiwin help`?" answer to a mistyped subcommand (nothing recorded yet)."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import button, context, ephemeral, section

RECORD_ANYWAY = "win_record_anyway"
MAX_BUTTON_VALUE = 2000


def anyway_value(text: str, trigger_id: str | None) -> str | None:
    """What the "Record it as a win anyway" button carries; None when it would not fit a button."""
    value = json.dumps({"text": text, "trigger_id": trigger_id}, ensure_ascii=False)
    return value if len(value) <= MAX_BUTTON_VALUE else None


def did_you_mean(name: str, value: str) -> dict[str, Any]:
    text = f"Did you mean `/aiwin {name}`? I didn't record anything."
    more = "." if name == "help" else ", or `/aiwin help` to see every command."
    return ephemeral(text, [
        section(f":thinking_face: {text}"),
        {"type": "actions", "elements": [button("Record it as a win anyway", RECORD_ANYWAY, value)]},
        context(f"Type `/aiwin {name}` to run it{more}"),
    ])
