""""Record it as a win anyway" on the did-you-mean answer: the original text becomes a win, through
the same service as the command, once (the original command's trigger_id is the win's key)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.blocks.ratelimit import slow_down
from bot.blocks.win import receipt
from bot.deps import Deps
from bot.services import ratelimit
from bot.services.wins import NewWin, find_by_trigger, record_win


def _original(body: dict[str, Any]) -> tuple[str, str] | None:
    """(text, trigger key) from the button; the key falls back to the click itself."""
    try:
        action = body["actions"][0]
        value = json.loads(action["value"])
        text = value["text"]
        key = value.get("trigger_id") or f"anyway:{body['user']['id']}:{action['action_ts']}"
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return (text, key) if isinstance(text, str) and text.strip() and isinstance(key, str) else None


def record_anyway(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """The durable write happens before the ack, as for the command."""
    deps: Deps = context["deps"]
    original = _original(body)
    if original is not None:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        # The same click arriving twice at once is recorded once (ON CONFLICT on its trigger_id).
        with deps.db.session(context.team_id) as session:
            result = record_win(session, NewWin(
                team_id=context.team_id, enterprise_id=context.enterprise_id, author_id=context.user_id,
                channel_id=channel or None, text=original[0], trigger_id=original[1],
                response_url=body.get("response_url")), limits=ratelimit.limits_of(deps.settings))
        if result.created:
            deps.notify_jobs()
    ack()


def show_receipt(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    deps: Deps = context["deps"]
    original = _original(body)
    limits = ratelimit.limits_of(deps.settings)
    with deps.db.read(context.team_id) as session:
        win = find_by_trigger(session, original[1]) if original else None
        wait = ratelimit.waiting(session, context.team_id, context.user_id, ratelimit.WIN, limits) if win is None \
            else None
    if win is None and wait is not None and original:  # the per-person limit refused it in the ack
        respond({**slow_down("win", wait, limits, wire_text=original[0]), "replace_original": False})
        return
    if win is None:
        respond({"response_type": "ephemeral", "replace_original": False,
                 "text": "Sorry, I couldn't record that. Please try `/aiwin` with your win again."})
        return
    respond({**receipt(win, created=True), "replace_original": True})
