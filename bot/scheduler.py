"""The scheduler: periodic jobs on APScheduler 3 (digests and prompts arrive with their feature)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.db import DATABASE_ERRORS
from bot.jobs import queue

log = logging.getLogger(__name__)

# Slack redelivers an event for up to 24 h (with Delayed Events); keep dedupe keys for 3 days.
KEEP_FINISHED_JOBS = timedelta(days=3)


def purge_jobs(runtime: Any) -> None:
    with runtime.db.session() as session:
        n = queue.purge_finished(session, older_than=KEEP_FINISHED_JOBS)
    if n:
        log.info("purged %s finished jobs", n)


# Periodic work registered by feature modules: (function(runtime), APScheduler trigger, id).
PERIODIC: list[tuple[Callable[[Any], None], BaseTrigger, str]] = []


def periodic(trigger: BaseTrigger, job_id: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Run `fn(runtime)` on `trigger` in the scheduler process (one per deployment)."""

    def register(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        PERIODIC.append((fn, trigger, job_id))
        return fn

    return register


periodic(IntervalTrigger(hours=1), "purge_jobs")(purge_jobs)


def build_scheduler(runtime: Any) -> BackgroundScheduler:
    import bot.features  # noqa: F401  (feature modules register their periodic work)

    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for fn, trigger, job_id in PERIODIC:
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


def start_scheduler(runtime: Any) -> BackgroundScheduler:
    scheduler = build_scheduler(runtime)
    scheduler.start()
    return scheduler
