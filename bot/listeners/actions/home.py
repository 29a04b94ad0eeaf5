"""Buttons on App Home (open a settings modal) and on the reinvestment question (record the answer)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.blocks.home import (
    EDIT_EMOJI,
    EDIT_MANAGERS,
    EDIT_POLICY,
    SHOW_SUBSCRIPTIONS,
    emoji_modal,
    managers_modal,
    policy_modal,
    subscriptions_modal,
)
from bot.blocks.modals import SETTINGS_ONE_LINE
from bot.blocks.stats import REINVEST_ACTION_PREFIX, reinvest_thanks
from bot.deps import Deps
from bot.listeners.modals import dm_with, open_modal
from bot.models import KIND_DIGEST, KIND_PROMPTS
from bot.services.home import admin_settings
from bot.services.policy import policy_summary
from bot.services.reinvest import record_answer
from bot.services.wins import get_win

SETTINGS_BUTTONS = (EDIT_POLICY, EDIT_EMOJI, EDIT_MANAGERS, SHOW_SUBSCRIPTIONS)


def ack_only(ack: Ack) -> None:
    ack()


def open_settings_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The modal behind a settings button. Saving checks that the person is an admin."""
    deps: Deps = context["deps"]
    action = body["actions"][0]
    with deps.db.read(context.team_id) as session:
        settings = admin_settings(session, context.team_id)
        policy = policy_summary(session, context.team_id)
    kind = action.get("action_id")
    one_line: str | None = None
    if kind == EDIT_POLICY:
        view, what, one_line = policy_modal(policy), "AI policy", SETTINGS_ONE_LINE
    elif kind == EDIT_EMOJI:
        view, what, one_line = emoji_modal(settings.teachback_emoji), "emoji", "`/aiwin teachbacks emoji trophy`"
    elif kind == EDIT_MANAGERS:
        view, what, one_line = (managers_modal(settings.managers, settings.managers_group), "managers",
                                "`/aiwin managers add @alice`")
    else:
        which = KIND_PROMPTS if action.get("value") == KIND_PROMPTS else KIND_DIGEST
        view = subscriptions_modal(which, settings.prompts if which == KIND_PROMPTS else settings.digests)
        what, one_line = "schedules", f"`/aiwin {which} on friday 16:00` (in the channel)"
    open_modal(client, body.get("trigger_id"), view, what=what, one_line=one_line,
               tell=dm_with(client, context.user_id))


def _choice(body: dict[str, Any]) -> tuple[int, str] | None:
    """(win id, category) from a reinvestment button's value "12:customers"."""
    try:
        raw_id, _, key = str(body["actions"][0]["value"]).partition(":")
        return int(raw_id), key
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def ack_reinvest(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Record the answer before acknowledging, so a click is never lost."""
    deps: Deps = context["deps"]
    choice = _choice(body)
    if choice is not None:
        with deps.db.session(context.team_id) as session:
            answer = record_answer(session, context.team_id, choice[0], context.user_id, choice[1])
        if answer.status == "ok":
            deps.wake_worker()
    ack()


def reinvest_answered(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    deps: Deps = context["deps"]
    choice = _choice(body)
    with deps.db.read(context.team_id) as session:
        win = get_win(session, choice[0]) if choice else None
    if win is None:
        respond(text="That win has been deleted, so there's nothing to record.", replace_original=True)
    elif context.user_id not in win.owner_ids:
        respond(**ephemeral("Only the people this win belongs to can say where its time went."),
                replace_original=False)
    elif win.reinvested_in:
        respond(**reinvest_thanks(win), replace_original=True)
    else:
        respond(**ephemeral("Sorry, I didn't catch that. Please press one of the buttons again."),
                replace_original=False)


def register(app: App) -> None:
    for action_id in SETTINGS_BUTTONS:
        app.action(action_id)(ack=ack_only, lazy=[open_settings_modal])
    app.action(re.compile(f"^{REINVEST_ACTION_PREFIX}"))(ack=ack_reinvest, lazy=[reinvest_answered])
