"""The note to an author when mentions were left out of a win's owners (bots, deactivated)."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import mentions, section


def left_out(win_id: int, user_ids: tuple[str, ...]) -> tuple[str, list[dict[str, Any]]]:
    who = mentions(list(user_ids))
    text = (f"Left out {who} from win #{win_id}: bots and deactivated accounts can't own wins, "
            "so they won't be credited or counted.")
    return text, [section(f":information_source: {text} The rest of your win is saved as you wrote it.")]
