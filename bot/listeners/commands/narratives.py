"""`/aiwin narrate <how I use AI>` (alias `story`): a usage narrative, stored before the ack.
Without text it opens the narrative modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.modals import NARRATIVE_ONE_LINE
from bot.blocks.narratives import narrative_modal, narrative_receipt
from bot.blocks.ratelimit import slow_down
from bot.deps import Deps
from bot.listeners.commands.router import Call
from bot.listeners.commands.teachbacks import LATER
from bot.listeners.modals import open_modal, respond_with
from bot.services import ratelimit
from bot.services.narratives import record_narrative


def ack_narrate(call: Call, deps: Deps) -> dict[str, Any] | str:
    if not call.text.strip():
        return LATER  # the modal opens after the ack
    limits = ratelimit.limits_of(deps.settings)
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
            limits=limits,
        )
    if result.wait is not None:  # past this person's limit: nothing is recorded
        return slow_down("story", result.wait, limits, wire_text=call.text)
    if result.created:
        deps.notify_jobs()
    return narrative_receipt(result.narrative, created=result.created)


def lazy_narrate(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    if call.text.strip():
        return
    open_modal(client, call.trigger_id, narrative_modal(channel_id=call.channel_id), what="story",
               one_line=NARRATIVE_ONE_LINE, tell=respond_with(respond))
