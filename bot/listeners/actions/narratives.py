"""Narrative buttons: `open_narrative_modal` (e.g. on a leadership prompt) and Post again."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.blocks.modals import NARRATIVE_ONE_LINE
from bot.blocks.narratives import OPEN_NARRATIVE_MODAL, RETRY_POST, narrative_modal
from bot.deps import Deps
from bot.listeners import modals
from bot.listeners.commands.teachbacks import parse_id
from bot.services.narratives import retry_post, valid_period

log = logging.getLogger(__name__)

_CHANNEL_RE = re.compile(r"[CG][A-Z0-9]+")


def ack_only(ack: Ack) -> None:
    ack()


def _value(body: dict[str, Any]) -> Any:
    return ((body.get("actions") or [{}])[0]).get("value")


def modal_context(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel_id, prompt_period) from the button's JSON value, falling back to the message's channel.
    Anything malformed is ignored: the modal still opens."""
    try:
        value = json.loads(_value(body) or "{}")
    except (TypeError, ValueError):
        value = {}
    if not isinstance(value, dict):
        value = {}
    channel = value.get("channel_id") or (body.get("channel") or {}).get("id")
    if not (isinstance(channel, str) and _CHANNEL_RE.fullmatch(channel)):
        channel = None
    return channel, valid_period(value.get("prompt_period"))


def open_modal(body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond) -> None:
    channel_id, period = modal_context(body)
    modals.open_modal(client, body.get("trigger_id"), narrative_modal(channel_id=channel_id, prompt_period=period),
                      what="story", one_line=NARRATIVE_ONE_LINE, tell=modals.respond_with(respond))


def post_again(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    deps: Deps = context["deps"]
    value = _value(body)
    narrative_id = parse_id(value if isinstance(value, str) else "")
    with deps.db.session(context.team_id) as session:
        n = (retry_post(session, narrative_id, context.user_id, response_url=body.get("response_url"))
             if narrative_id else None)
    if n is None:
        respond(**ephemeral("There's nothing to post again: the story is already posted, gone, "
                            "or not yours."), replace_original=False)
        return
    deps.wake_worker()
    respond(**ephemeral(f"Trying to post story #{n.id} again…"), replace_original=True)


def register(app: App) -> None:
    app.action(OPEN_NARRATIVE_MODAL)(ack=ack_only, lazy=[open_modal])
    app.action(RETRY_POST)(ack=ack_only, lazy=[post_again])
