"""Jobs of the Workflow Builder step "Record an AI win" (bot/services/steps.py says why they are jobs).

`run_step` checks the author and records the win, or ends the run with the sentence the ack
stored; `complete_step` hands the win's number and its celebration's link to the workflow.
Slack's refusals are never swallowed: outputs Slack refuses end the run with
functions.completeError and a sentence the workflow's author can act on, and an execution Slack
no longer runs (a redelivery already completed) is one log line. Rate limits and Slack's bad
moments are retried by the worker; a job that gives up still ends the run with a sentence."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.win import workflow_receipt
from bot.jobs.worker import JobContext
from bot.models import Job
from bot.services import people, steps, wins
from bot.slack.client import make_client
from bot.slack.directory import Directory
from bot.slack.errors import EXECUTION_GONE, RETRY_LATER, retry_after
from bot.slack.links import permalink

log = logging.getLogger(__name__)


def _transient(e: SlackApiError) -> bool:
    """Slack's bad moments, worth another try later (HTTP 5xx and 429 are recognised by status)."""
    return retry_after(e) is not None or e.response.status_code >= 500 or e.response.get("error") in RETRY_LATER


def workflow_client(ctx: JobContext, job: Job) -> WebClient:
    """The execution's own workflow token, as Bolt's complete()/fail() use it (one client per call,
    not kept: the token dies with the execution); the bot's client if the event had none."""
    token = job.payload.get("token")
    return make_client(token, ctx.clients.base_url) if token else ctx.client(job)


def end_with_error(ctx: JobContext, job: Job, sentence: str) -> None:
    """functions.completeError: the workflow stops and its author reads `sentence`."""
    execution_id = job.payload["execution_id"]
    try:
        workflow_client(ctx, job).functions_completeError(function_execution_id=execution_id, error=sentence)
    except SlackApiError as e:
        error = e.response.get("error")
        if error in EXECUTION_GONE:
            log.info("custom step %s: not ended with an error, Slack no longer runs it (%s)", execution_id, error)
            return
        if _transient(e):
            raise  # the worker tries again later
        log.error("custom step %s: Slack refused functions.completeError (%s); the workflow may wait until "
                  "Slack times it out", execution_id, error)
        return
    log.info("custom step %s ended with an error for its author (team=%s)", execution_id, job.team_id)


def run_step(ctx: JobContext, job: Job) -> None:
    payload = job.payload
    if payload.get("error"):  # the inputs were wrong: the ack stored what to tell the author
        end_with_error(ctx, job, payload["error"])
        return
    step = steps.step_input(payload)
    if not people.is_human(ctx.db, Directory(ctx.client(job)), job.team_id, step.author):
        end_with_error(ctx, job, steps.BOT_AUTHOR)
        return
    with ctx.db.session(job.team_id) as session:
        result = steps.record_step_win(session, team_id=job.team_id, enterprise_id=job.enterprise_id,
                                       execution_id=payload["execution_id"], token=payload.get("token"), step=step,
                                       limits=ctx.limits)
    if result.win is None:  # the per-person limit: not recorded, and the workflow must not wait for it
        end_with_error(ctx, job, steps.limited(result.wait or ctx.limits.interval))
        return
    ctx.wake_worker()  # its celebration (or completion) job is ready now
    if result.created:  # a workflow spoke in the author's name: they hear of it, once
        text, blocks = workflow_receipt(result.win)
        try:
            ctx.client(job).chat_postMessage(channel=step.author, text=text, blocks=blocks)
        except SlackApiError as e:
            log.warning("could not tell %s that a workflow recorded win %s: %s", step.author, result.win.id,
                        e.response.get("error"))


def run_step_gave_up(ctx: JobContext, job: Job) -> None:
    """Slack kept failing the author check: no win; the workflow must not wait for one."""
    end_with_error(ctx, job, steps.NOT_CHECKED)


def complete_step(ctx: JobContext, job: Job) -> None:
    execution_id, win_id = job.payload["execution_id"], job.payload["win_id"]
    with ctx.db.read(job.team_id) as session:
        win = wins.get_win(session, win_id)
    outputs: dict[str, object] = {"win_id": win_id}
    if win is not None and win.message_ts:
        link = permalink(ctx.client(job), job.team_id, win.message_channel, win.message_ts)
        if link:
            outputs["permalink"] = link
    try:
        workflow_client(ctx, job).functions_completeSuccess(function_execution_id=execution_id, outputs=outputs)
    except SlackApiError as e:
        error = e.response.get("error")
        if error in EXECUTION_GONE:
            log.info("custom step %s: not completed, Slack no longer runs it (%s)", execution_id, error)
            return
        if _transient(e):
            raise
        log.warning("custom step %s: Slack refused the outputs of win %s (%s); ending the run with an error",
                    execution_id, win_id, error)
        end_with_error(ctx, job, steps.OUTPUTS_REFUSED.format(win_id=win_id, error=error))
        return
    log.info("custom step %s completed with win %s (team=%s)", execution_id, win_id, job.team_id)


def complete_step_gave_up(ctx: JobContext, job: Job) -> None:
    """Slack kept failing functions.completeSuccess: end the run rather than leave it waiting."""
    end_with_error(ctx, job, steps.NOT_FINISHED.format(win_id=job.payload["win_id"]))


HANDLERS = {
    steps.RUN_STEP: run_step,
    f"{steps.RUN_STEP}:failed": run_step_gave_up,
    steps.COMPLETE_STEP: complete_step,
    f"{steps.COMPLETE_STEP}:failed": complete_step_gave_up,
}
