"""bot/slack/errors.py: Slack's error names grouped once, and the job worker's outcome for each group when
no handler dealt with the error: "gone" and "not in channel" fail the job at once, "retry later" and
rate limits run it again. Real HTTP to the sandbox, both databases."""

from __future__ import annotations

import pytest

from bot.jobs.worker import JobContext, Worker
from bot.models import JOB_FAILED, JOB_PENDING, Job, queue
from bot.slack import errors
from bot.slack.client import SlackClients
from tests.conftest import CHANNEL, TEAM


def _post(ctx, job):
    ctx.client(job).chat_postMessage(channel=CHANNEL, text="hello")


def _run_once(db, fake_slack) -> tuple[str, Job]:
    with db.session() as s:
        job_id = queue.enqueue(s, team_id=TEAM, kind="post", payload={})
    worker = Worker(JobContext(db=db, clients=SlackClients(fake_slack.api_url, token=fake_slack.token)),
                    handlers={"post": _post})
    with db.session() as s:
        [job] = queue.claim(s, limit=1, lease=worker.lease, holder=worker.worker_id)
    outcome = worker.run_job(job)
    with db.read() as s:
        return outcome, s.get(Job, job_id)


@pytest.mark.parametrize("error", ["not_in_channel", "is_archived", "channel_not_found", "missing_scope",
                                   "invalid_blocks"])
def test_an_error_retrying_cannot_help_fails_the_job_at_once(db, fake_slack, error):
    fake_slack.fail("chat.postMessage", error=error)
    outcome, job = _run_once(db, fake_slack)
    assert outcome == "failed"
    assert (job.status, job.last_error, job.attempts) == (JOB_FAILED, error, 1)


@pytest.mark.parametrize("error", ["internal_error", "service_unavailable", "token_expired", "token_revoked",
                                   "invalid_auth", "some_error_slack_adds_tomorrow"])
def test_a_passing_or_unknown_error_runs_the_job_again(db, fake_slack, error):
    fake_slack.fail("chat.postMessage", error=error)
    outcome, job = _run_once(db, fake_slack)
    assert outcome == "retry"
    assert (job.status, job.last_error) == (JOB_PENDING, f"slack error {error}")


def test_a_rate_limit_waits_as_slack_asked_without_counting_an_attempt(db, fake_slack):
    fake_slack.fail("chat.postMessage", status=429, retry_after=7)
    outcome, job = _run_once(db, fake_slack)
    assert outcome == "retry"
    assert (job.status, job.last_error) == (JOB_PENDING, "ratelimited")
    assert 6 <= (job.run_at - job.created_at).total_seconds() <= 60


def test_the_groups_do_not_overlap_where_outcomes_differ():
    assert not errors.RETRY_LATER & errors.PERMANENT
    assert errors.NOT_IN_CHANNEL <= errors.PERMANENT and errors.GONE - errors.TOKEN_GONE <= errors.PERMANENT
    assert not errors.TOKEN_REFUSED & errors.PERMANENT  # a token fixed by an operator lets waiting jobs go out
