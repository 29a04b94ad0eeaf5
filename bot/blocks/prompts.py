"""Block Kit for a leadership modeling prompt: the prompt, its habit, and a button that opens the
narrative modal (the `open_narrative_modal` action is handled with the narratives feature)."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import button, context, header, section
from bot.blocks.digest import policy_line
from bot.services.prompts import Prompt

OPEN_NARRATIVE = "open_narrative_modal"


def prompt_blocks(prompt: Prompt, *, period: str, channel_id: str, has_policy: bool = False,
                  policy_url: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The channel message for one week's prompt: (fallback text, blocks)."""
    value = json.dumps({"prompt_period": period, "channel_id": channel_id})
    blocks: list[dict[str, Any]] = [
        header(":compass: This week's leadership prompt"),
        section(f"*{prompt.text}*"),
        context(f"Habit: *{prompt.habit_label}* · Leaders go first: when you show how you use AI, "
                "your team follows."),
        {"type": "actions",
         "elements": [button("Share how I used AI", OPEN_NARRATIVE, value, style="primary")]},
        context("Or type `/aiwin narrate <what you did, how, and what you checked>`. Narratives from "
                "managers are featured in the weekly digest."),
    ]
    policy = policy_line(has_policy, policy_url)
    if policy:
        blocks.append(context(policy))
    return f"This week's leadership prompt: {prompt.text}", blocks
