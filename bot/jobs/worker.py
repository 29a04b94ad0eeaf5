"""Runs queued jobs on a small thread pool, in `aiwins serve` and `aiwins scheduler` alike.

A handler is a plain function `handler(ctx, job)`. It returns normally when the job is done
(optionally returning a `fn(session)` to run in the same transaction that marks the job done),
raises `RetryLater` to be run again later (Slack's Retry-After, per-channel pacing), or
`Permanent` when trying again cannot help (so does a workspace with no token). A Slack error no
handler caught is judged by its group (bot/slack/errors.py): a rate limit waits as Slack asked, "gone"
and "not in channel" fail the job at once, the rest is retried. Any other exception is retried with
exponential backoff up to `max_attempts`, then the job is marked failed and logged with its context.
A job of a workspace the app was uninstalled from is cancelled instead of run.

Leases are short (LEASE) and renewed by a heartbeat for every job this worker holds (running,
queued on the pool, or paced in memory), so a replica that dies loses its jobs to the others
within seconds. A job is settled only by the worker that still holds it (compare-and-set on
`locked_by`); `stop()` drains: running jobs finish, the rest are handed back."""

from __future__ import annotations

import heapq
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db import DATABASE_ERRORS, Database
from bot.installations import TokenRefreshFailed
from bot.llm import Model
from bot.metrics import JOBS
from bot.models import JOB_FAILED, Job, queue, utcnow
from bot.services.ratelimit import Limits
from bot.services.uninstall import CANCELLED
from bot.services.workspaces import is_uninstalled
from bot.slack.client import NotInstalled, SlackClients
from bot.slack.errors import PERMANENT, error_of, retry_after

log = logging.getLogger(__name__)

# Short, because a dead worker's jobs wait this long at most; the heartbeat renews it every
# third of it for all of a live worker's jobs in one UPDATE (Worker._beat).
LEASE = timedelta(seconds=15)
MAX_HOLD = 60.0  # seconds a paced job may wait in memory (under its renewed lease) for its slot
MAX_ATTEMPTS = 8
MAX_RATE_LIMITED = 30  # 429s are Slack asking us to wait, not failures; still bounded
CHANNEL_INTERVAL = 1.0  # chat.postMessage: about one message per second per channel


TOKEN_REFRESH_FAILED = "token refresh failed"  # noqa: S105 - a job error, not a secret


class RetryLater(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, seconds: float, reason: str, *, counts: bool = True) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason
        self.counts = counts


class Permanent(Exception):  # noqa: N818
    """Trying again cannot help (e.g. the message it was to update is gone)."""


class LeaseLost(Exception):  # noqa: N818
    """Another worker took this job over (our lease lapsed): roll back, leave it to them."""


def new_worker_id() -> str:
    """Unique per Worker, readable in the jobs table: host, process, and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class JobContext:
    db: Database
    clients: SlackClients
    # Handlers call this after committing new jobs; the worker points it at its own wake-up.
    wake_worker: Callable[[], None] = lambda: None
    limits: Limits = Limits()  # per-person rate limits (teach-back nominations are counted in a job)
    search_limits: Limits = Limits(burst=10, per_minute=20.0)  # the coach's questions count as searches
    model: Model | None = None  # the AI coach's model (bot/llm.py), when one is configured

    def client(self, job: Job):  # noqa: ANN201 - a WebClient
        return self.clients.for_team(job.team_id, job.enterprise_id)


Handler = Callable[[JobContext, Job], "Callable[[Session], None] | None"]
def backoff(attempt: int) -> float:
    """2, 4, 8 … seconds, capped at 10 minutes, with jitter so retries do not stampede."""
    return min(600.0, 2.0**attempt) * (0.75 + random.random() / 2)


class ChannelPacer:
    """Books posting slots per channel in this process, so each gets ~1 message per second.

    A job that has to wait is rescheduled to its booked slot and goes straight through when it
    comes back. Other processes pace themselves; Slack's 429s cover what they overlap."""

    def __init__(self, interval: float = CHANNEL_INTERVAL) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._booked: dict[int, float] = {}
        self._lock = threading.Lock()

    def reserve(self, channel: str, job_id: int, now: float) -> float:
        """Return how long job `job_id` must wait before posting to `channel` (0 = go now)."""
        with self._lock:
            booked = self._booked.pop(job_id, None)
            if booked is not None and booked <= now + 0.05:
                return 0.0
            slot = max(now, self._next.get(channel, 0.0))
            self._next[channel] = slot + self.interval
            if len(self._next) > 50_000:  # forget channels idle for a while
                self._next = {c: t for c, t in self._next.items() if t > now}
                self._booked = {j: t for j, t in self._booked.items() if t > now - 600}
            if slot <= now:
                return 0.0
            self._booked[job_id] = slot
            return slot - now


class DelayedJobs:
    """Claimed jobs waiting for their channel's next posting slot, released on time by one thread."""

    def __init__(self, release: Callable[[Job], None]) -> None:
        self.release = release
        self._heap: list[tuple[float, int, Job]] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="aiwins-paced", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def take_all(self) -> list[Job]:
        with self._cond:
            jobs = [entry[2] for entry in self._heap]
            self._heap.clear()
            return jobs

    def put(self, job: Job, wait: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + wait, job.id, job))
            self._cond.notify()

    def _loop(self) -> None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    self.release(heapq.heappop(self._heap)[2])
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


class Worker:
    def __init__(
        self,
        ctx: JobContext,
        *,
        threads: int = 4,
        poll_interval: float = 1.0,
        handlers: Mapping[str, Handler],
        busy: Callable[[], bool] = lambda: False,
        lease: timedelta = LEASE,
    ) -> None:
        self.busy = busy
        self.lease = lease
        self.worker_id = new_worker_id()
        ctx.wake_worker = self.wake_worker
        self.ctx = ctx
        self.threads = threads
        self.poll_interval = poll_interval
        self.handlers = handlers  # kind -> handler: bot/registry.py
        self.pacer = ChannelPacer()
        self._delayed = DelayedJobs(self._submit)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._running = 0
        self._interrupted: set[int] = set()  # jobs a database outage stopped, to hand back when it answers
        self._held: set[int] = set()  # jobs claimed and not yet settled here: the heartbeat renews these only
        self._database_down = False
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._heartbeat_stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> Worker:
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="aiwins-job")
        self._delayed.start()
        self._thread = threading.Thread(target=self._loop, name="aiwins-jobs", daemon=True)
        self._thread.start()
        self._heartbeat = threading.Thread(target=self._beat, name="aiwins-lease", daemon=True)
        self._heartbeat.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Drain: claim nothing more, let running jobs finish (the heartbeat keeps their leases),
        then hand back every job still held (paced or not yet started) so others take it at once."""
        self._stop.set()
        self._wake.set()
        self._delayed.stop()
        self._delayed.take_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._heartbeat_stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout)
        try:
            with self.ctx.db.session() as s:
                released = queue.release(s, holder=self.worker_id)
            if released:
                log.info("handed back %s job(s) on shutdown", released)
        except Exception:
            log.exception("handing back jobs on shutdown failed; their leases lapse in %s", self.lease)

    def _beat(self) -> None:
        interval = self.lease.total_seconds() / 3
        while not self._heartbeat_stop.wait(interval):
            try:
                self.renew_leases()
            except Exception:
                log.exception("renewing job leases failed; will try again")

    def renew_leases(self) -> int:
        """One UPDATE for every job this worker knows it holds: claimed, running or paced. Only those: a
        claim whose commit reached the database while this worker saw an error (a connection lost mid-COMMIT)
        names us as holder, yet nothing here runs it; its lease lapses and another worker takes it over."""
        with self._idle:
            held = list(self._held)
        if not held:
            return 0
        with self.ctx.db.session() as s:
            return queue.renew(s, holder=self.worker_id, lease=self.lease, ids=held)

    def wake_worker(self) -> None:
        """New work was enqueued in this process: look now instead of at the next poll."""
        self._wake.set()

    # -- the loop ----------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.run_once(limit=self.threads * 4)
            except DATABASE_ERRORS as e:
                if not self._database_down:  # one line when an outage starts (run_once logs its end)
                    log.error("job worker: the database is unavailable, retrying every %gs: %s",
                              self.poll_interval, type(getattr(e, "orig", None) or e).__name__)
                self._database_down = True
                claimed = 0
            except Exception:
                log.exception("claiming jobs failed; will try again")
                claimed = 0
            if claimed == 0:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def run_once(self, limit: int = 50) -> int:
        """Claim due jobs and run them on the pool; returns how many were claimed."""
        # Acks come first: while requests are being answered, background work runs one job at a
        # time (the ack path and the worker share one interpreter; see BENCHMARKS.md).
        with self._idle:
            interrupted = set(self._interrupted)
        if interrupted:  # jobs a database outage stopped: back to the queue first, whatever else is running
            with self.ctx.db.session() as session:
                for job_id in interrupted:
                    queue.reschedule(session, job_id, run_at=utcnow(),
                                     error="interrupted: the database was unavailable", holder=self.worker_id)
            with self._idle:
                self._interrupted -= interrupted
        capacity = 1 if self.busy() else self.threads * 2
        with self._idle:
            free = capacity - self._running
        if free <= 0:
            with self._idle:
                self._idle.wait(self.poll_interval)
            return 1
        with self.ctx.db.session() as session:
            jobs = queue.claim(session, limit=min(limit, free), lease=self.lease, holder=self.worker_id)
        with self._idle:
            self._held.update(job.id for job in jobs)
        if self._database_down:
            log.info("job worker: the database is available again")
            self._database_down = False
        for job in jobs:
            if job.taken_over:
                log.info("job %s (%s) taken over from a lapsed lease", job.id, job.kind)
            self._submit(job)
        return len(jobs)

    def _run_guarded(self, job: Job) -> None:
        outcome = None
        try:
            outcome = self.run_job(job)
        except DATABASE_ERRORS as e:
            log.warning("job %s (%s) interrupted, the database is unavailable (%s); it runs again once the "
                        "database answers", job.id, job.kind, type(getattr(e, "orig", None) or e).__name__)
            with self._idle:  # handed back by run_once when the database answers, not after the lease
                self._interrupted.add(job.id)
        finally:
            with self._idle:
                self._running -= 1
                if outcome != "paced":  # a paced job stays held (in memory) until its slot
                    self._held.discard(job.id)
                self._idle.notify_all()

    def run_job(self, job: Job) -> str:
        """Run one claimed job and record the outcome: "done", "retry", "failed", or "paced" (held in
        memory until its channel's next slot)."""
        fn = self.handlers.get(job.kind)
        db = self.ctx.db
        if fn is None:
            log.error("no handler for job kind %r (job %s); marking it failed", job.kind, job.id)
            with db.session() as s:
                queue.finish(s, job.id, status=JOB_FAILED, error=f"unknown kind {job.kind}", holder=self.worker_id)
            JOBS.labels(job.kind, "failed").inc()
            return "failed"
        job.uninstalled = self._uninstalled(job)
        if job.uninstalled and not getattr(fn, "runs_when_uninstalled", False):
            # Its workspace removed the app: nothing is sent there until it is installed again.
            with db.session() as s:
                queue.finish(s, job.id, status=JOB_FAILED, error=CANCELLED, holder=self.worker_id)
            JOBS.labels(job.kind, "cancelled").inc()
            log.info("job %s (%s) cancelled: the app was uninstalled from workspace %s", job.id, job.kind,
                     job.team_id)
            return "cancelled"
        channel = job.payload.get("pace_channel")
        if channel:
            wait = self.pacer.reserve(f"{job.team_id}:{channel}", job.id, time.monotonic())
            if 0 < wait < MAX_HOLD:
                # Hold it here until its slot: the (renewed) lease keeps other workers off it, and
                # pacing costs no database writes (a burst into one channel would otherwise churn).
                self._delayed.put(job, wait)
                return "paced"
            if wait > 0:
                with db.session() as s:
                    queue.reschedule(s, job.id, run_at=utcnow() + timedelta(seconds=wait),
                                     error=None, refund_attempt=True, holder=self.worker_id)
                return "retry"
        try:
            complete = fn(self.ctx, job)
        except RetryLater as r:
            return self._retry(job, r.seconds, r.reason, counts=r.counts)
        except SlackApiError as e:
            return self._slack_error(job, e)
        except (Permanent, NotInstalled) as p:
            return self._fail(job, str(p))
        except TokenRefreshFailed:  # logged once by the store; Slack's trouble, so retried longer
            return self._retry(job, backoff(job.attempts), TOKEN_REFRESH_FAILED, counts=False)
        except DATABASE_ERRORS:
            raise  # not the job's fault: it stays leased and runs again later (_run_guarded logs it)
        except Exception as e:
            log.exception("job %s (%s) for team %s failed on attempt %s", job.id, job.kind, job.team_id, job.attempts)
            return self._retry(job, backoff(job.attempts), f"{type(e).__name__}")
        try:
            with db.session(job.team_id) as s:
                if not queue.finish(s, job.id, holder=self.worker_id, payload=getattr(job, "final_payload", None)):
                    raise LeaseLost()
                if complete is not None:
                    complete(s)  # the handler's own bookkeeping, in the same transaction as "done"
        except LeaseLost:
            log.warning("job %s (%s): lease lost to another worker before it finished", job.id, job.kind)
            JOBS.labels(job.kind, "lost").inc()
            return "lost"
        JOBS.labels(job.kind, "done").inc()
        return "done"

    def _slack_error(self, job: Job, e: SlackApiError) -> str:
        """A Slack error no handler dealt with, turned into an outcome (bot/slack/errors.py): a rate limit
        waits as long as Slack asked (not counted as an attempt); "gone" and "not in channel" fail the job
        now, since trying again cannot help; anything else ("retry later", a 5xx) is retried with backoff."""
        wait = retry_after(e)
        if wait is not None:
            return self._retry(job, wait, "ratelimited", counts=False)
        error = error_of(e) or str(e.response.status_code)
        if error in PERMANENT:
            return self._fail(job, error)
        return self._retry(job, backoff(job.attempts), f"slack error {error}")

    def _uninstalled(self, job: Job) -> bool:
        return is_uninstalled(self.ctx.db, job.team_id)

    def _retry(self, job: Job, seconds: float, reason: str, *, counts: bool = True) -> str:
        limit = MAX_ATTEMPTS if counts else MAX_RATE_LIMITED
        if job.attempts >= limit:
            return self._fail(job, f"gave up after {job.attempts} attempts: {reason}")
        with self.ctx.db.session() as s:
            held = queue.reschedule(s, job.id, run_at=utcnow() + timedelta(seconds=seconds), error=reason,
                                    holder=self.worker_id)
        if not held:
            log.warning("job %s (%s): lease lost to another worker; not rescheduled", job.id, job.kind)
            return "lost"
        JOBS.labels(job.kind, "retry").inc()
        log.info("job %s (%s) will be retried in %.1fs: %s", job.id, job.kind, seconds, reason)
        self.wake_worker_later(seconds)
        return "retry"

    def _fail(self, job: Job, reason: str) -> str:
        with self.ctx.db.session() as s:
            held = queue.finish(s, job.id, status=JOB_FAILED, error=reason, holder=self.worker_id,
                                payload=getattr(job, "final_payload", None))
        if not held:
            log.warning("job %s (%s): lease lost to another worker; not marked failed", job.id, job.kind)
            return "lost"
        JOBS.labels(job.kind, "failed").inc()
        log.warning("job %s (%s) for team %s failed: %s", job.id, job.kind, job.team_id, reason)
        on_fail = self.handlers.get(f"{job.kind}:failed")
        if on_fail is not None:
            try:
                on_fail(self.ctx, job)
            except Exception:
                log.exception("failure handler for job %s (%s) failed", job.id, job.kind)
        return "failed"

    def _submit(self, job: Job) -> None:
        if self._stop.is_set():
            return  # draining: stop() hands it back
        with self._idle:
            self._running += 1
        assert self._pool is not None
        try:
            self._pool.submit(self._run_guarded, job)
        except RuntimeError:  # the pool shut down meanwhile; stop() hands it back
            with self._idle:
                self._running -= 1

    def wake_worker_later(self, seconds: float) -> None:
        """Wake the loop when a rescheduled job falls due, so short waits are not a whole poll."""
        if seconds < self.poll_interval:
            t = threading.Timer(seconds, self._wake.set)
            t.daemon = True
            t.start()

