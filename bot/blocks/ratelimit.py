""""Slow down": what a person sees past their rate limit (bot/services/ratelimit.py)."""

from __future__ import annotations

import math
from typing import Any

from bot.blocks.common import context, ephemeral, section
from bot.blocks.text import render_wire_text, truncate
from bot.services.ratelimit import Limits


def wait_words(seconds: float) -> str:
    s = max(1, math.ceil(seconds))
    if s < 90:
        return f"{s} second{'s' if s != 1 else ''}"
    return f"{math.ceil(s / 60)} minutes"


def rule(limits: Limits) -> str:
    rate = f"{limits.per_minute:g} a minute" if limits.per_minute >= 1 else f"one every {wait_words(limits.interval)}"
    return f"up to {limits.burst} at once, then {rate}"


def slow_down(noun: str, wait: float, limits: Limits, *, wire_text: str | None = None) -> dict[str, Any]:
    """An ephemeral answer: nothing was saved, when to try again, and (for a command) what they typed."""
    lead = f"Slow down: this {noun} was not saved. Try again in {wait_words(wait)}."
    blocks = [section(f":hourglass_flowing_sand: *Slow down* — that's a lot of {noun}s in a short time, so this "
                      f"one was *not* saved. Try again in {wait_words(wait)}.")]
    if wire_text:
        blocks.append(typed(wire_text))
    blocks.append(context(f"Each person can record {rule(limits)}, so one channel never gets flooded."))
    return ephemeral(lead, blocks)


def typed(wire_text: str) -> dict[str, Any]:
    """What the person typed, quoted, to send again."""
    return section("What you typed, to send again:\n>" + truncate(render_wire_text(wire_text), 2500)
                   .replace("\n", "\n>"))


def unsaved(wait: float, limits: Limits, wire_text: str) -> tuple[str, list[dict[str, Any]]]:
    """(text, blocks) telling the author a command acknowledged a moment ago was not recorded after all:
    another replica had already counted their earlier wins (bot/services/ratelimit.py)."""
    message = slow_down("win", wait, limits, wire_text=wire_text)
    return message["text"], message["blocks"]


def unsaved_blocks(text: str, wire_text: str) -> list[dict[str, Any]]:
    return [section(f":warning: {text}"), typed(wire_text)]


def slow_down_field(noun: str, wait: float) -> str:
    """The same as a modal field error (the form stays open with what they typed)."""
    return f"Slow down: too many {noun}s in a short time. Submit again in {wait_words(wait)}; nothing is lost."
