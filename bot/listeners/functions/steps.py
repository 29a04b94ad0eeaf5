"""The Workflow Builder custom step "Record an AI win" (`function_executed`, callback_id
`record_ai_win`). Thin: the ack reads the inputs (no Slack call: a slow Slack would slow the ack,
and Slack redelivers an event it did not hear back about) and stores the execution as a job keyed
by its id, so a redelivered execution is one win; everything after is in bot/jobs/steps.py."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deps import Deps
from bot.services import steps

RECORD_STEP = "record_ai_win"


def ack_step(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
    deps: Deps = context["deps"]
    with deps.db.session(context.team_id) as session:
        new = steps.accept(session, team_id=context.team_id, enterprise_id=context.enterprise_id,
                           execution_id=event["function_execution_id"],
                           token=context.function_bot_access_token or event.get("bot_access_token"),
                           inputs=event.get("inputs") or {})
    if new:
        deps.wake_worker()
    ack()


def register(app: App) -> None:
    # No lazy listener: waiting for the celebration would hold one of Bolt's few threads.
    app.function(RECORD_STEP)(ack_step)
