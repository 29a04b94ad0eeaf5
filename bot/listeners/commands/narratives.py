"""`/aiwin narrate <how I use AI>` (alias `story`): a usage narrative, stored before the ack.
Without text it opens the narrative modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.narratives import narrative_modal, narrative_receipt
from bot.deps import Deps
from bot.listeners.commands.router import Call
from bot.listeners.commands.teachbacks import LATER, trouble_reported
from bot.services.narratives import record_narrative


def ack_narrate(call: Call, deps: Deps) -> dict[str, Any] | str:
    if not call.text.strip():
        return LATER  # the modal opens after the ack
    with deps.db.session(call.team_id) as session:
        result = record_narrative(
            session,
            team_id=call.team_id,
            enterprise_id=call.enterprise_id,
            author_id=call.user_id,
            text=call.text,
            channel_id=call.channel_id,
            trigger_id=call.trigger_id,
            response_url=call.response_url,
        )
    if result.created:
        deps.notify_jobs()
    return narrative_receipt(result.narrative, created=result.created)


def lazy_narrate(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    if call.text.strip():
        return
    with trouble_reported(respond, "opening the narrative modal", team=call.team_id, user=call.user_id):
        client.views_open(trigger_id=call.trigger_id, view=narrative_modal(channel_id=call.channel_id))
