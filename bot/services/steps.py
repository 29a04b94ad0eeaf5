"""The Workflow Builder step "Record an AI win": its inputs read and checked, with a sentence a
workflow author understands when they are wrong. Plain values; recording is bot/services/wins.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.services.wins import MAX_MINUTES_SAVED

MAX_TEXT = 3000
_USER_RE = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_RE = re.compile(r"[CGD][A-Z0-9]{2,}")

NO_TEXT = ("The “What was done with AI” input is empty. Fill it in the step's settings, or pick a form "
           "answer that always has text, e.g. “Drafted the Q3 board memo with ChatGPT”.")
NO_AUTHOR = ("The “Author” input must be a person in this workspace. Set it to the person who runs the "
             "workflow, e.g. the “Person who used this workflow” variable.")
BOT_AUTHOR = ("The “Author” input is a bot or app, and AI wins belong to people. Set it to the person who "
              "runs the workflow, e.g. the “Person who used this workflow” variable.")
TOO_LONG = f"The “What was done with AI” input is too long: keep it under {MAX_TEXT} characters."


def minutes_problem(raw: object) -> str:
    return (f"The “Minutes saved” input must be a whole number from 1 to {MAX_MINUTES_SAVED} "
            f"({MAX_MINUTES_SAVED // 60} hours); it was {str(raw)[:40]}. Leave it empty if nobody knows.")


def execution_trigger(function_execution_id: str) -> str:
    """The win's trigger_id: a redelivered run of the same execution is the same win."""
    return f"fx:{function_execution_id}"


@dataclass(frozen=True)
class StepInput:
    author: str
    text: str
    recipients: tuple[str, ...] | None  # None: not given (the text's mentions, else the author's own win)
    tool: str | None
    minutes_saved: int | None
    channel: str | None


def read_inputs(inputs: dict[str, Any]) -> StepInput | str:
    """The step's inputs, or the sentence that says what to fix (the author's humanity is checked
    by the caller, who can ask Slack)."""
    author = inputs.get("author")
    if not isinstance(author, str) or not _USER_RE.fullmatch(author):
        return NO_AUTHOR
    text = inputs.get("text")
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return NO_TEXT
    if len(text) > MAX_TEXT:
        return TOO_LONG
    raw_minutes = inputs.get("minutes_saved")
    minutes = None
    if raw_minutes not in (None, ""):
        try:
            minutes = int(str(raw_minutes).strip())
        except ValueError:
            return minutes_problem(raw_minutes)
        if isinstance(raw_minutes, float) and raw_minutes != minutes:
            return minutes_problem(raw_minutes)
        if not 0 < minutes <= MAX_MINUTES_SAVED:
            return minutes_problem(raw_minutes)
    raw_recipients = inputs.get("recipients")
    recipients = None
    if isinstance(raw_recipients, list) and raw_recipients:
        recipients = tuple(dict.fromkeys(u for u in raw_recipients if isinstance(u, str) and _USER_RE.fullmatch(u)))
    tool = inputs.get("tool")
    tool = tool.strip()[:80] or None if isinstance(tool, str) else None
    channel = inputs.get("channel")
    channel = channel if isinstance(channel, str) and _CHANNEL_RE.fullmatch(channel) else None
    return StepInput(author=author, text=text, recipients=recipients, tool=tool, minutes_saved=minutes,
                     channel=channel)
