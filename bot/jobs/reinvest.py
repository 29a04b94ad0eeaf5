"""The "where did the saved time go?" DMs: found every 15 minutes, sent by the job worker."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.blocks.stats import reinvest_question
from bot.jobs.worker import JobContext
from bot.models import Job, Workspace, utcnow
from bot.services.reinvest import queue_asks, win_to_ask
from bot.services.workspaces import still_installed

log = logging.getLogger(__name__)


def reinvest_asks(runtime: Any, now: datetime | None = None) -> int:
    """Queue the DMs that fell due in every workspace the app is installed in. Returns how many."""
    now = now or utcnow()
    with runtime.db.read() as session:
        teams = session.scalars(select(Workspace.team_id).where(still_installed(Workspace.team_id))
                                .execution_options(all_tenants=True)).all()
    queued = 0
    for team_id in teams:
        try:
            with runtime.db.session(team_id) as session:
                queued += queue_asks(session, team_id, now=now)
        except Exception:
            log.exception("queueing reinvestment questions failed for team %s", team_id)
    if queued and runtime.worker is not None:
        runtime.worker.wake_worker()
    return queued


def send_reinvest_ask(ctx: JobContext, job: Job) -> None:
    user_id = job.payload["user_id"]
    with ctx.db.read(job.team_id) as session:
        win = win_to_ask(session, job.payload["win_id"], user_id)
    if win is None:
        return  # answered, deleted, or they opted out meanwhile
    text, blocks = reinvest_question(win)
    # A person who cannot be written to fails the job at once (bot/slack/errors.py: the worker's outcomes).
    ctx.client(job).chat_postMessage(channel=user_id, text=text, blocks=blocks)
