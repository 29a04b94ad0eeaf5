"""The shortcuts: "Record as AI win" on a message and "Log an AI win" from anywhere. Thin: both
open the one win form (bot/blocks/capture.py), whose submission records through the win service.

The message's form needs Slack lookups (the names of the people it mentions, its permalink) that
can outlast the click's 3-second trigger, so a loading view opens first and the form replaces it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.capture import global_win_modal, message_win_loading, message_win_modal
from bot.blocks.modals import WIN_ONE_LINE
from bot.deps import Deps
from bot.listeners.modals import dm_with, open_modal, open_then_fill, respond_with
from bot.services.capture import draft_from_message, mentioned_users
from bot.services.people import person
from bot.slack.directory import Directory
from bot.slack.links import permalink

RECORD_MESSAGE = "record_ai_win"  # message shortcut
LOG_WIN = "log_ai_win"  # global shortcut
MAX_NAMES = 20  # the people of a message looked up for the form's text


def ack_only(ack: Ack) -> None:
    ack()


def open_message_win(body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond) -> None:
    message = body.get("message") or {}
    channel_id = (body.get("channel") or {}).get("id") or ""
    user_id = (body.get("user") or {}).get("id") or ""
    deps: Deps = context["deps"]

    def form() -> dict[str, Any]:
        directory = Directory(client)
        names: dict[str, str | None] = {}
        for uid in mentioned_users(message.get("text") or "")[:MAX_NAMES]:
            try:
                who = person(deps.db, directory, context.team_id, uid)
            except SlackApiError:
                who = None
            names[uid] = who.name if who else None  # else the mention's own label, or the id
        draft = draft_from_message(message, channel_id, user_id, names.get)
        link = permalink(client, context.team_id, channel_id, draft.source_ts)
        return message_win_modal(draft, permalink=link, response_url=body.get("response_url"))

    # A message shortcut carries a response_url; without one the note goes by DM.
    tell = respond_with(respond) if body.get("response_url") else dm_with(client, user_id)
    open_then_fill(client, body.get("trigger_id"), message_win_loading(), form, what="win",
                   one_line=WIN_ONE_LINE, tell=tell)


def open_global_win(body: dict[str, Any], client: WebClient) -> None:
    # A global shortcut has no response_url: if the form cannot open, the person hears it by DM.
    user_id = (body.get("user") or {}).get("id") or ""
    open_modal(client, body.get("trigger_id"), global_win_modal(), what="win", one_line=WIN_ONE_LINE,
               tell=dm_with(client, user_id))


def register(app: App) -> None:
    app.shortcut(RECORD_MESSAGE)(ack=ack_only, lazy=[open_message_win])
    app.shortcut(LOG_WIN)(ack=ack_only, lazy=[open_global_win])
