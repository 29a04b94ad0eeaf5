"""Submitting the narrative modal: field errors for bad values, else record the story (before the ack)."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.narratives import MAX_CHECKED, MAX_HOW, MAX_TOOLS, NARRATIVE_MODAL
from bot.blocks.ratelimit import slow_down_field
from bot.blocks.words import hours
from bot.deps import Deps
from bot.listeners.views.win_modal import state_value
from bot.models import TEXT_PLAIN
from bot.services import ratelimit
from bot.services.narratives import record_narrative, valid_period
from bot.services.storable import storable_values
from bot.services.wins import MAX_MINUTES_SAVED
from bot.services.wintext import parse_duration

_CHANNEL_RE = re.compile(r"[CGD][A-Z0-9]+")
__all__ = ["NARRATIVE_MODAL", "handle_narrative_modal", "read_narrative_form"]


def _text(values: dict[str, Any], block_id: str) -> str:
    value = state_value(values, block_id)
    return value.strip() if isinstance(value, str) else ""


def read_narrative_form(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned fields of the narrative modal, and field errors keyed by block_id."""
    errors: dict[str, str] = {}
    how = _text(values, "how")
    if not how:
        errors["how"] = "Walk us through it, e.g. “1. Pasted the notes into Claude 2. Asked for a summary…”."
    elif len(how) > MAX_HOW:
        errors["how"] = f"Please keep it under {MAX_HOW} characters."
    tools = _text(values, "tools")
    if len(tools) > MAX_TOOLS:
        errors["tools"] = f"Please keep it under {MAX_TOOLS} characters."
    checked = _text(values, "checked")
    if len(checked) > MAX_CHECKED:
        errors["checked"] = f"Please keep it under {MAX_CHECKED} characters."
    saved_raw = _text(values, "saved")
    minutes = None
    if saved_raw:
        minutes = parse_duration(saved_raw)
        if saved_raw.startswith(("-", "\u2212")) or (minutes is not None and minutes <= 0):
            errors["saved"] = "Time saved must be more than zero, e.g. 30m."
        elif minutes is None:
            errors["saved"] = "Write a time like 3h, 45m or 1h30m."
        elif minutes > MAX_MINUTES_SAVED:
            errors["saved"] = f"That's more than {hours(MAX_MINUTES_SAVED)}: is it a typo?"
    channel = state_value(values, "channel")
    fields = {
        "text": how,
        "tools": tools or None,
        "checked": checked or None,
        "minutes_saved": minutes,
        "channel_id": channel if isinstance(channel, str) and _CHANNEL_RE.fullmatch(channel) else None,
    }
    return fields, errors


def handle_narrative_modal(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                           context: BoltContext) -> None:
    deps: Deps = context["deps"]
    fields, errors = read_narrative_form(storable_values(view.get("state", {}).get("values", {})))
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    team_id = context.team_id or body.get("team", {}).get("id")
    with deps.db.session(team_id) as session:
        result = record_narrative(
            session,
            team_id=team_id,
            enterprise_id=context.enterprise_id,
            author_id=body["user"]["id"],
            text_format=TEXT_PLAIN,
            prompt_period=valid_period(meta.get("prompt_period")),
            trigger_id=body.get("trigger_id"),
            limits=ratelimit.limits_of(deps.settings),
            **fields,
        )
    if result.wait is not None:  # past this person's limit: the form stays open, nothing is recorded
        ack(response_action="errors", errors={"how": slow_down_field("story", result.wait)})
        return
    deps.notify_jobs()
    ack()
