"""The Workflow Builder step "Record an AI win": its inputs read and checked, with a sentence a
workflow author understands when they are wrong, and its run made durable.

A workflow waits until the app completes its step, so nothing acknowledged may be lost and nothing
may wait on the request path: the ack only stores a job keyed by the execution id (`accept`; a
redelivered execution adds nothing). The job (bot/jobs/steps.py) asks Slack whether the author is
a person, records the win (`record_step_win`) and, once it is celebrated (or has nowhere to be),
another job completes the step with the win's number and link.

The jobs carry the execution's workflow token (`xwfp-…`, from the event's `bot_access_token`):
Slack accepts functions.completeSuccess / completeError for an execution with its own token, which
is good only while the execution runs. Finished jobs are purged (bot/scheduler.py)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.models.queue import enqueue
from bot.models.win import POST_PENDING
from bot.services import ratelimit
from bot.services.ratelimit import Limits
from bot.services.wins import MAX_MINUTES_SAVED, NewWin, RecordResult, record_win
from bot.services.wintext import MAX_RECIPIENTS, mentions

MAX_TEXT = 3000
_USER_RE = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_RE = re.compile(r"[CGD][A-Z0-9]{2,}")

NO_TEXT = ("The “What was done with AI” input is empty. Fill it in the step's settings, or pick a form "
           "answer that always has text, e.g. “Drafted the Q3 board memo with ChatGPT”.")
NO_AUTHOR = ("The “Author” input must be a person in this workspace. Set it to the person who runs the "
             "workflow, e.g. the “Person who used this workflow” variable.")
BOT_AUTHOR = ("The “Author” input is a bot or app, and AI wins belong to people. Set it to the person who "
              "runs the workflow, e.g. the “Person who used this workflow” variable.")
TOO_LONG = f"The “What was done with AI” input is too long: keep it under {MAX_TEXT} characters."
TOO_MANY_PEOPLE = ("The win names {count} people (in “Whose win it is”, or mentioned in the text); a win can name "
                   f"at most {MAX_RECIPIENTS}. Name fewer people, or leave the input empty to make it the "
                   "author's own win.")
NOT_CHECKED = ("Slack could not be reached to check the “Author” input, so no win was recorded. Run the "
               "workflow again in a few minutes.")
NOT_FINISHED = ("Win #{win_id} was recorded, but Slack could not be reached to finish this step. The win is "
                "saved: there is no need to record it again.")
OUTPUTS_REFUSED = ("Win #{win_id} was recorded, but Slack refused this step's outputs ({error}): the app's "
                   "step definition may be out of date. Ask a Slack admin to reinstall AI Wins, then remove and "
                   "re-add the “Record an AI win” step. The win is saved: there is no need to record it again.")

RUN_STEP = "workflow_step"  # job: check the author, record the win
COMPLETE_STEP = "workflow_step_done"  # job: functions.completeSuccess with the win's number and link


def minutes_problem(raw: object) -> str:
    return (f"The “Minutes saved” input must be a whole number from 1 to {MAX_MINUTES_SAVED} "
            f"({MAX_MINUTES_SAVED // 60} hours); it was {str(raw)[:40]}. Leave it empty if nobody knows.")


def execution_trigger(function_execution_id: str) -> str:
    """The win's trigger_id: a redelivered run of the same execution is the same win."""
    return f"fx:{function_execution_id}"


@dataclass(frozen=True)
class StepInput:
    author: str
    text: str
    recipients: tuple[str, ...] | None  # None: not given (the text's mentions, else the author's own win)
    tool: str | None
    minutes_saved: int | None
    channel: str | None


def read_inputs(inputs: dict[str, Any]) -> StepInput | str:
    """The step's inputs, or the sentence that says what to fix (the author's humanity is checked
    by the caller, who can ask Slack)."""
    author = inputs.get("author")
    if not isinstance(author, str) or not _USER_RE.fullmatch(author):
        return NO_AUTHOR
    text = inputs.get("text")
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return NO_TEXT
    if len(text) > MAX_TEXT:
        return TOO_LONG
    raw_minutes = inputs.get("minutes_saved")
    minutes = None
    if raw_minutes not in (None, ""):
        try:
            minutes = int(str(raw_minutes).strip())
        except ValueError:
            return minutes_problem(raw_minutes)
        if isinstance(raw_minutes, float) and raw_minutes != minutes:
            return minutes_problem(raw_minutes)
        if not 0 < minutes <= MAX_MINUTES_SAVED:
            return minutes_problem(raw_minutes)
    raw_recipients = inputs.get("recipients")
    recipients = None
    if isinstance(raw_recipients, list) and raw_recipients:
        recipients = tuple(dict.fromkeys(u for u in raw_recipients if isinstance(u, str) and _USER_RE.fullmatch(u)))
    named = len(recipients) if recipients is not None else len(mentions(text))  # none given: the text's mentions
    if named > MAX_RECIPIENTS:
        return TOO_MANY_PEOPLE.format(count=named)
    tool = inputs.get("tool")
    tool = tool.strip()[:80] or None if isinstance(tool, str) else None
    channel = inputs.get("channel")
    channel = channel if isinstance(channel, str) and _CHANNEL_RE.fullmatch(channel) else None
    return StepInput(author=author, text=text, recipients=recipients, tool=tool, minutes_saved=minutes,
                     channel=channel)


def accept(session: Session, *, team_id: str, enterprise_id: str | None, execution_id: str, token: str | None,
           inputs: dict[str, Any]) -> bool:
    """The ack's whole work: the execution's job, keyed by its id, with the inputs already read (or
    the sentence that fails the step). False when Slack delivered this execution before."""
    step = read_inputs(inputs)
    payload: dict[str, Any] = {"execution_id": execution_id, "token": token}
    if isinstance(step, str):
        payload["error"] = step
    else:
        payload["step"] = asdict(step)
    return enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=RUN_STEP, payload=payload,
                   dedupe_key=f"step:{execution_id}") is not None


def step_input(payload: dict[str, Any]) -> StepInput:
    """The StepInput `accept` stored in a job's payload."""
    fields = dict(payload["step"])
    if fields.get("recipients") is not None:
        fields["recipients"] = tuple(fields["recipients"])
    return StepInput(**fields)


def record_step_win(session: Session, *, team_id: str, enterprise_id: str | None, execution_id: str,
                    token: str | None, step: StepInput, limits: Limits) -> RecordResult:
    """Record the step's win (once per execution), within its author's per-person limit like every other
    way in. Its celebration job completes the step; a win with nothing to celebrate (no channel, or done
    before) is completed by a job of its own. A win the limit refuses is not recorded (`result.win` None)."""
    execution = {"execution_id": execution_id, "token": token}
    # Every workflow of the workspace together, besides the author's own limit: Slack's function_executed
    # event names the run (workflow_execution_id), not the workflow, so workflows cannot be told apart.
    wait = ratelimit.take(session, team_id, WORKFLOWS, ratelimit.WIN, workflow_limits(limits))
    if wait is not None:
        return RecordResult(None, created=False, wait=wait)
    result = record_win(session, NewWin(
        team_id=team_id, enterprise_id=enterprise_id, author_id=step.author, channel_id=step.channel,
        text=step.text, recipients=step.recipients, tool=step.tool, minutes_saved=step.minutes_saved,
        trigger_id=execution_trigger(execution_id), source="workflow", step=execution,
    ), limits=limits)
    if result.win is not None and result.win.post_status != POST_PENDING:
        enqueue_completion(session, team_id=team_id, enterprise_id=enterprise_id, win_id=result.win.id,
                           step=execution)
    return result


WORKFLOWS = "workflows"  # the rate-limit bucket every Workflow Builder run of a workspace shares
WORKFLOW_FACTOR = 10  # … with ten times one person's burst and rate


def workflow_limits(limits: Limits) -> Limits:
    return Limits(burst=limits.burst * WORKFLOW_FACTOR, per_minute=limits.per_minute * WORKFLOW_FACTOR)


def limited(wait: float) -> str:
    """The sentence for a step refused by the per-person limit."""
    return (f"Too many AI wins were recorded in a short time (by this author, or by workflows in this "
            f"workspace), so this one was not recorded. Run the workflow again in {max(1, round(wait))} seconds.")


def enqueue_completion(session: Session, *, team_id: str, enterprise_id: str | None, win_id: int,
                       step: dict[str, Any]) -> None:
    """Complete the step with `win_id` (and the celebration's link if it has one by then): once per
    execution, however many times the celebration job ends."""
    enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=COMPLETE_STEP,
            payload={"win_id": win_id, **step}, dedupe_key=f"step_done:{step['execution_id']}")
