"""The Workflow Builder custom step "Record an AI win" (`function_executed`, callback_id
`record_ai_win`). Thin: the win is recorded before the ack through the same service as `/aiwin`
(a redelivered execution finds the same win by its execution id); after the ack the step is
completed with the win's id and, once posted, its celebration's link, or failed with a sentence."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import Ack, App, BoltContext, Complete, Fail
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.directory import Directory
from bot.jobs.teachbacks import permalink
from bot.models import TEXT_WIRE
from bot.models.win import POST_PENDING
from bot.services import people
from bot.services.steps import BOT_AUTHOR, StepInput, execution_trigger, read_inputs
from bot.services.wins import WinView, find_by_trigger, get_win, record_win

log = logging.getLogger(__name__)

RECORD_STEP = "record_ai_win"
POST_WAIT_SECONDS = 20.0  # how long the step waits for the celebration, to hand its link on


def _checked(deps: Deps, client: WebClient, team_id: str, inputs: dict[str, Any]) -> StepInput | str:
    step = read_inputs(inputs)
    if isinstance(step, str):
        return step
    if not people.is_human(deps.db, Directory(client), team_id, step.author):
        return BOT_AUTHOR
    return step


def ack_step(ack: Ack, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    deps: Deps = context["deps"]
    step = _checked(deps, client, context.team_id, event.get("inputs") or {})
    if isinstance(step, StepInput):
        with deps.db.session(context.team_id) as session:
            result = record_win(
                session, team_id=context.team_id, enterprise_id=context.enterprise_id, author_id=step.author,
                channel_id=step.channel, text=step.text, text_format=TEXT_WIRE, recipients=step.recipients,
                tool=step.tool, minutes_saved=step.minutes_saved,
                trigger_id=execution_trigger(event["function_execution_id"]), source="workflow",
            )
        if result.created:
            deps.notify_jobs()
    ack()


def finish_step(event: dict[str, Any], context: BoltContext, client: WebClient, complete: Complete,
                fail: Fail) -> None:
    deps: Deps = context["deps"]
    with deps.db.read(context.team_id) as session:
        win = find_by_trigger(session, execution_trigger(event["function_execution_id"]))
    try:
        if win is None:
            problem = _checked(deps, client, context.team_id, event.get("inputs") or {})
            fail(problem if isinstance(problem, str) else "Sorry, the win could not be saved. Please run it again.")
            return
        outputs: dict[str, Any] = {"win_id": win.id}
        link = _celebration_link(deps, client, context.team_id, win)
        if link:
            outputs["permalink"] = link
        complete(outputs=outputs)
    except SlackApiError as e:
        # e.g. a redelivered execution that was completed the first time
        log.info("custom step %s not completed: %s", event.get("function_execution_id"), e.response.get("error"))


def _celebration_link(deps: Deps, client: WebClient, team_id: str, win: WinView) -> str | None:
    """Wait (a little) for the celebration job to post, then link to it."""
    deadline = time.monotonic() + POST_WAIT_SECONDS
    while win is not None and win.post_status == POST_PENDING and not win.message_ts and time.monotonic() < deadline:
        time.sleep(0.1)  # polling the database for the post job's result
        with deps.db.read(team_id) as session:
            win = get_win(session, win.id)
    if win is None or not win.message_ts:
        return None
    return permalink(client, team_id, win.message_channel, win.message_ts)


def register(app: App) -> None:
    app.function(RECORD_STEP)(ack=ack_step, lazy=[finish_step])
