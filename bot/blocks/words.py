"""How the bot writes figures, everywhere (messages, App Home, digests, the CLI): one voice.

* `hours(minutes)`: "45 min", "5 h", "5 h 45 min", "1,204 h 30 min": exact, so an author's receipt
  shows what they wrote, and `parse_duration` reads every answer back.
* `plural(n, one)`: "1 AI win", "2 AI wins", "1,204 people".
* `tool_counts(...)`: "ChatGPT (3) · Claude (1)".
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.blocks.text import escape

__all__ = ["hours", "plural", "tool_counts"]


def hours(minutes: int | None) -> str:
    """Time saved, one way everywhere: "20 min", "3 h", "5 h 45 min". None → "" so callers can write
    `hours(m) or "—"`."""
    if minutes is None:
        return ""
    if minutes < 60:
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    return f"{h:,} h {m} min" if m else f"{h:,} h"


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 AI win", "3 AI wins", "2 people" (`many` for irregular plurals)."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def tool_counts(top: Iterable[tuple[str, int]]) -> str:
    """Top tools with how many wins named each (escaped: tool names are user text)."""
    return " · ".join(f"{escape(tool)} ({n:,})" for tool, n in top)
