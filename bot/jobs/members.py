"""Copying the member list from users.list, one page after another (bot/services/members.py says
what the copy guarantees).

A 429 in the middle of the walk is handed to the job worker, which reschedules the job for
Retry-After (bot/jobs/worker.py, as for every Slack rate limit); the cursor of the page that was
refused is already kept in the job's payload, so the walk resumes there. slack_sdk's
RateLimitErrorRetryHandler would retry the same cursor too, but by sleeping for Retry-After on the
worker thread: Tier 2 waits run to tens of seconds, and the worker's few threads also post every
workspace's celebrations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.jobs.worker import JobContext, Permanent
from bot.models import Job
from bot.models.queue import keep_payload
from bot.services.home import enqueue_home_refresh
from bot.services.members import PAGE_SIZE, copy_finished, store_page
from bot.slack.client import NotInstalled
from bot.slack.directory import Directory

log = logging.getLogger(__name__)


def copy_members(ctx: JobContext, job: Job) -> Callable[[Session], None] | None:
    try:
        directory = Directory(ctx.client(job))
    except NotInstalled as e:
        raise Permanent(str(e)) from e
    payload = dict(job.payload)
    cursor: str | None = payload.get("cursor")
    started_over = False
    while True:
        try:
            users, next_cursor = directory.member_page(cursor, limit=PAGE_SIZE)
        except SlackApiError as e:
            error = e.response.get("error")
            if error == "invalid_cursor" and cursor and not started_over:
                # A cursor kept through a long wait may have expired: the one case for starting over.
                log.warning("users.list refused the kept cursor for %s; copying the members from the start",
                            job.team_id)
                cursor, started_over = None, True
                continue
            # A 429 (or a passing error): the worker runs the job again from the kept cursor. A token or
            # scope that is gone fails it at once (bot/slack/errors.py: the worker's outcomes).
            raise
        if next_cursor is None:  # the last page: stored as the job is marked done, in one transaction
            return lambda session: _finish(session, job, users, payload)
        payload["cursor"] = next_cursor
        with ctx.db.session(job.team_id) as session:
            if not keep_payload(session, job, payload, progressed=True):
                return None  # another worker holds the job now; it resumes from the last kept cursor
            store_page(session, job.team_id, users)
        cursor = next_cursor


def _finish(session: Session, job: Job, users: list[dict[str, Any]], payload: dict[str, Any]) -> None:
    store_page(session, job.team_id, users)
    copy_finished(session, job.team_id, datetime.fromisoformat(payload["started_at"]))
    if payload.get("first") and payload.get("home_for"):
        # Their Home was built before any member list existed: show them coverage now.
        enqueue_home_refresh(session, job.team_id, [payload["home_for"]], enterprise_id=job.enterprise_id)
