"""Submitting the win modal: field errors for bad values, else record (or correct) the win."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.ratelimit import slow_down_field
from bot.blocks.win import OTHER_TOOL
from bot.blocks.words import hours
from bot.deps import Deps
from bot.models import TEXT_PLAIN
from bot.services import ratelimit
from bot.services.storable import storable_values
from bot.services.win_edit import save_edit
from bot.services.wins import MAX_MINUTES_SAVED, REINVEST_CATEGORIES, NewWin, record_win
from bot.services.wintext import MAX_RECIPIENTS, parse_duration

log = logging.getLogger(__name__)

MAX_TEXT = 3000


def state_value(values: dict[str, Any], block_id: str, action_id: str | None = None) -> Any:
    """The submitted value of one input, whatever its element type; None when empty."""
    block = values.get(block_id) or {}
    element = block.get(action_id or block_id) or {}
    for key in ("value", "selected_conversation", "selected_channel", "selected_user", "selected_users",
                "selected_date"):
        if key in element:
            return element[key]
    option = element.get("selected_option")
    return option.get("value") if option else None


def read_win_form(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned fields of the win modal, and field errors keyed by block_id."""
    errors: dict[str, str] = {}
    what = (state_value(values, "what") or "").strip()
    if not what:
        errors["what"] = "Say what was done with AI, e.g. “Drafted the Q3 board memo with ChatGPT”."
    elif len(what) > MAX_TEXT:
        errors["what"] = f"Please keep it under {MAX_TEXT} characters."
    tool = state_value(values, "tool")
    other = (state_value(values, "other_tool") or "").strip()
    if tool == OTHER_TOOL or (not tool and other):
        tool = other or None
        if not tool:
            errors["other_tool"] = "Type the tool's name, e.g. “Tabnine”."
    saved_raw = (state_value(values, "saved") or "").strip()
    minutes = None
    if saved_raw:
        minutes = parse_duration(saved_raw)
        if saved_raw.startswith(("-", "\u2212")):
            errors["saved"] = "Time saved must be more than zero, e.g. 30m."
        elif minutes is None:
            errors["saved"] = "Write a time like 3h, 45m or 1h30m."
        elif minutes <= 0:
            errors["saved"] = "Time saved must be more than zero, e.g. 30m."
        elif minutes > MAX_MINUTES_SAVED:
            errors["saved"] = f"That's more than {hours(MAX_MINUTES_SAVED)} for one win: is it a typo?"
    reinvest = state_value(values, "reinvest")
    if reinvest is not None and reinvest not in REINVEST_CATEGORIES:
        reinvest = None
    how = (state_value(values, "how") or "").strip() or None
    if how and len(how) > MAX_TEXT:
        errors["how"] = f"Please keep it under {MAX_TEXT} characters."
    who = tuple(state_value(values, "who") or ())
    if len(who) > MAX_RECIPIENTS:  # the picker stops there; the form's answer is checked all the same
        errors["who"] = f"A win can name at most {MAX_RECIPIENTS} people; this names {len(who)}."
    fields = {
        "text": what,
        "recipients": who,
        "tool": tool,
        "minutes_saved": minutes,
        "how": how,
        "reinvested_in": reinvest,
        "channel_id": state_value(values, "channel"),
    }
    return fields, errors


def handle_win_modal(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    deps: Deps = context["deps"]
    values = (view.get("state") or {}).get("values")
    fields, errors = read_win_form(storable_values(values if isinstance(values, dict) else {}))
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):  # junk metadata (not from our form): treat as a new win's
        meta = {}
    win_id = meta.get("win_id")
    if win_id is not None and not (isinstance(win_id, int) and 0 < win_id < 2**63):
        log.warning("win modal submitted with an unknown win id (team=%s)", body.get("team", {}).get("id"))
        ack(response_action="errors", errors={"what": "This win no longer exists."})
        return
    team_id = context.team_id or body.get("team", {}).get("id")
    user_id = body["user"]["id"]
    with deps.db.session(team_id) as session:
        if win_id:
            fields.pop("channel_id")
            updated = save_edit(session, win_id, user_id, shown=meta.get("shown"), **fields)
            if updated is None:
                ack(response_action="errors", errors={"what": "Only the person who logged this win can edit it."})
                return
        else:
            # The same message submitted twice at once is recorded once (ON CONFLICT, see record_win).
            result = record_win(session, NewWin(
                team_id=team_id, enterprise_id=context.enterprise_id, author_id=user_id,
                text_format=TEXT_PLAIN, trigger_id=body.get("trigger_id"),
                **{"source": "modal", **fields, **source_fields(meta)},
            ), limits=ratelimit.limits_of(deps.settings))
            if result.wait is not None:  # past this person's limit: the form stays open, nothing recorded
                ack(response_action="errors", errors={"what": slow_down_field("win", result.wait)})
                return
    deps.notify_jobs()
    ack()


def source_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """A win recorded from a message (the "Record as AI win" shortcut): that message, the thread
    it is celebrated in, and the response_url for "I can't post there" (bot/blocks/capture.py)."""
    source = meta.get("source")
    if not isinstance(source, dict) or not source.get("channel") or not source.get("ts"):
        return {}
    return {"source": "message", "channel_id": source["channel"], "source_channel": source["channel"],
            "source_ts": source["ts"], "source_thread_ts": source.get("thread_ts") or source["ts"],
            "source_permalink": source.get("permalink"), "response_url": source.get("response_url")}
