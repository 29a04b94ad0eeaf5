"""The scheduler: periodic jobs on APScheduler 3 (the table of them is in bot/registry.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from bot.db import DATABASE_ERRORS
from bot.models import queue

log = logging.getLogger(__name__)

# Slack redelivers an event for up to 24 h (with Delayed Events); keep dedupe keys for 3 days.
KEEP_FINISHED_JOBS = timedelta(days=3)


def purge_jobs(runtime: Any) -> None:
    with runtime.db.session() as session:
        n = queue.purge_finished(session, older_than=KEEP_FINISHED_JOBS)
    if n:
        log.info("purged %s finished jobs", n)


# Periodic work: (function(runtime), APScheduler trigger, id); the table is in bot/registry.py.
Periodic = tuple[Callable[[Any], None], BaseTrigger, str]


def build_scheduler(runtime: Any, periodic: Sequence[Periodic]) -> BackgroundScheduler:
    """Run each `fn(runtime)` on its trigger in the scheduler process (one per deployment)."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for fn, trigger, job_id in periodic:
        scheduler.add_job(_guarded(fn, job_id), trigger, args=[runtime], id=job_id, replace_existing=True)
    return scheduler


def _guarded(fn: Callable[[Any], None], job_id: str) -> Callable[[Any], None]:
    def run(runtime: Any) -> None:
        try:
            fn(runtime)
        except DATABASE_ERRORS as e:  # an outage, not a bug: no traceback
            log.warning("periodic job %s skipped, the database is unavailable (%s); it runs again at its "
                        "next time", job_id, type(getattr(e, "orig", None) or e).__name__)
        except Exception:
            log.exception("periodic job %s failed; it runs again at its next time", job_id)

    return run


def start_scheduler(runtime: Any, periodic: Sequence[Periodic]) -> BackgroundScheduler:
    scheduler = build_scheduler(runtime, periodic)
    scheduler.start()
    return scheduler
