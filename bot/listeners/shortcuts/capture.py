"""The shortcuts: "Record as AI win" on a message and "Log an AI win" from anywhere. Thin: both
open the one win form (bot/blocks/capture.py), whose submission records through the win service."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.capture import global_win_modal, message_win_modal
from bot.deps import Deps
from bot.directory import Directory
from bot.jobs.teachbacks import permalink
from bot.services.capture import draft_from_message, mentioned_users
from bot.services.people import person

RECORD_MESSAGE = "record_ai_win"  # message shortcut
LOG_WIN = "log_ai_win"  # global shortcut


def ack_only(ack: Ack) -> None:
    ack()


def open_message_win(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    message = body.get("message") or {}
    channel_id = (body.get("channel") or {}).get("id") or ""
    user_id = (body.get("user") or {}).get("id") or ""
    deps: Deps = context["deps"]
    directory = Directory(client)
    names: dict[str, str | None] = {}
    for uid in mentioned_users(message.get("text") or "")[:20]:
        try:
            who = person(deps.db, directory, context.team_id, uid)
        except SlackApiError:
            who = None
        names[uid] = who.name if who else None  # else the mention's own label, or the id
    draft = draft_from_message(message, channel_id, user_id, names.get)
    link = permalink(client, context.team_id, channel_id, draft.source_ts)
    client.views_open(trigger_id=body["trigger_id"],
                      view=message_win_modal(draft, permalink=link, response_url=body.get("response_url")))


def open_global_win(body: dict[str, Any], client: WebClient) -> None:
    client.views_open(trigger_id=body["trigger_id"], view=global_win_modal())


def register(app: App) -> None:
    app.shortcut(RECORD_MESSAGE)(ack=ack_only, lazy=[open_message_win])
    app.shortcut(LOG_WIN)(ack=ack_only, lazy=[open_global_win])

