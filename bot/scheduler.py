"""The scheduler: periodic jobs on APScheduler 3 (digests and prompts arrive with their feature)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs import queue

log = logging.getLogger(__name__)

# Slack redelivers an event for up to 24 h (with Delayed Events); keep dedupe keys for 3 days.
KEEP_FINISHED_JOBS = timedelta(days=3)


def purge_jobs(runtime: Any) -> None:
    with runtime.db.session() as session:
        n = queue.purge_finished(session, older_than=KEEP_FINISHED_JOBS)
    if n:
        log.info("purged %s finished jobs", n)


def build_scheduler(runtime: Any) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(purge_jobs, IntervalTrigger(hours=1), args=[runtime], id="purge_jobs",
                      replace_existing=True)
    return scheduler


def start_scheduler(runtime: Any) -> BackgroundScheduler:
    scheduler = build_scheduler(runtime)
    scheduler.start()
    return scheduler
