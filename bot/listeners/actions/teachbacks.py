"""Buttons in a nominated owner's DM: Accept, Decline, and (after accepting) Mark done.

Every `teachback_…` action lands here; the ack is immediate and the work runs after it."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.blocks.teachbacks import (
    ACCEPT,
    ACTION_PREFIX,
    DECLINE,
    DONE,
    accepted_message,
    declined_message,
    done_message,
    transition_reply,
)
from bot.deps import Deps
from bot.listeners.commands.teachbacks import mark_done, parse_id, trouble_reported
from bot.services import teachbacks as tb

log = logging.getLogger(__name__)

STALE_BUTTON = "That button doesn't work any more. `/aiwin teachbacks` shows the open teach-backs."
_SUCCESS = {ACCEPT: accepted_message, DECLINE: declined_message, DONE: done_message}


def ack_only(ack: Ack) -> None:
    ack()


def on_teachback_button(body: dict[str, Any], context: BoltContext, client: WebClient,
                        respond: Respond) -> None:
    deps: Deps = context["deps"]
    action = (body.get("actions") or [{}])[0]
    action_id = action.get("action_id")
    teachback_id = parse_id(action.get("value") if isinstance(action.get("value"), str) else "")
    if action_id not in _SUCCESS or teachback_id is None:
        log.warning("unusable teach-back button %r with value %r", action_id, action.get("value"))
        respond(**ephemeral(STALE_BUTTON), replace_original=False)
        return
    user_id = context.user_id
    with trouble_reported(respond, "teach-back button", team=context.team_id, user=user_id, action=action_id):
        if action_id == DONE:
            transition = mark_done(deps, client, context.team_id, teachback_id, user_id)
        else:
            with deps.db.session(context.team_id) as session:
                transition = tb.answer(session, teachback_id, user_id, accept=action_id == ACCEPT)
            deps.wake_worker()
        if transition.outcome == "ok" and transition.teachback:
            respond(**_SUCCESS[action_id](transition.teachback), replace_original=True)
        else:
            reply = transition_reply(transition.outcome, transition.teachback)
            respond(**ephemeral(reply), replace_original=False)


def register(app: App) -> None:
    # One listener for every teach-back button, so an unknown or stale one still gets a kind answer.
    app.action(re.compile(rf"^{ACTION_PREFIX}"))(ack=ack_only, lazy=[on_teachback_button])
