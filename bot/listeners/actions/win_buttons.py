"""Buttons on win messages: Edit (opens the modal prefilled) and Post again."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.blocks.win import win_modal
from bot.deps import Deps
from bot.listeners.modals import open_modal, respond_with
from bot.services.win_edit import edit_form
from bot.services.wins import EDIT_BY_TRIGGER, find_win, retry_post


def _win_id(body: dict[str, Any]) -> int | None:
    try:
        win_id = int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return win_id if 0 < win_id < 2**63 else None  # beyond a BIGINT the database would raise


def ack_only(ack: Ack) -> None:
    ack()


def open_edit_modal(body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond) -> None:
    deps: Deps = context["deps"]
    try:
        key = str(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError):
        key = ""
    with deps.db.read(context.team_id) as session:
        win = find_win(session, key)
        form = edit_form(session, win) if win else None
    if win is None:
        # A command's receipt names the win by its trigger_id until the worker has recorded it (a moment).
        gone = ("Your win is still being saved: press Edit again in a moment." if key.startswith(EDIT_BY_TRIGGER)
                else "That win no longer exists.")
        respond({**ephemeral(gone), "replace_original": False})
        return
    if win.author_id != context.user_id:
        respond({**ephemeral("Only the person who logged this win can edit it."), "replace_original": False})
        return
    open_modal(client, body.get("trigger_id"), win_modal(channel_id=win.channel_id, win=win, form=form),
               what="edit", one_line=None, tell=respond_with(respond))


def post_again(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    deps: Deps = context["deps"]
    win_id = _win_id(body)
    with deps.db.session(context.team_id) as session:
        win = retry_post(session, win_id, context.user_id, response_url=body.get("response_url")) if win_id else None
    if win is None:
        respond({**ephemeral("There's nothing to post again: the win is already posted or on its way, gone, "
                             "or not yours."), "replace_original": False})
        return
    deps.wake_worker()
    # Bolt ignores keyword arguments when the first one is a dict: the flags go inside it.
    respond({**ephemeral(f"Trying to post win #{win.id} again…"), "replace_original": True})
