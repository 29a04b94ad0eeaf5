"""A durable job queue in the database: the outbox for Slack calls and the inbox for events.

Work is enqueued in the same transaction as the data it concerns (a win and its celebration
post commit together), so nothing is lost if the process dies after the ack. Workers claim
due jobs with a lease (compare-and-set), so any number of processes can share the queue;
PostgreSQL additionally skips rows another worker holds (`FOR UPDATE SKIP LOCKED`). Leases are
short and named (`locked_by`): a live worker renews all of its leases with one UPDATE every few
seconds, so a dead worker's jobs are taken over within seconds, and a job is settled only by
the worker that still holds it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.models import JOB_DONE, JOB_FAILED, JOB_PENDING, Job, utcnow
from bot.models.upsert import DIALECTS, upsert


def enqueue(
    session: Session,
    *,
    team_id: str,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str | None = None,
    enterprise_id: str | None = None,
    run_at: datetime | None = None,
) -> int | None:
    """Add a job in the caller's transaction. With a `dedupe_key` already used in this workspace,
    nothing is added and None is returned: that is how events and digests happen once."""
    now = utcnow()
    # On the session's connection: a Core insert needs none of the ORM's execute machinery.
    conn = session.connection()
    result = conn.execute(_ENQUEUE[conn.dialect.name], {
        "team_id": team_id, "enterprise_id": enterprise_id, "kind": kind, "payload": payload,
        "dedupe_key": dedupe_key, "status": JOB_PENDING, "attempts": 0, "run_at": run_at or now,
        "locked_until": None, "locked_by": None, "last_error": None, "created_at": now, "finished_at": None,
    })
    return result.scalar_one_or_none()


# Built once per dialect: enqueueing is on the ack path of every win and event.
_ENQUEUE = {
    dialect: upsert(dialect, Job.__table__).on_conflict_do_nothing().returning(Job.__table__.c.id)
    for dialect in DIALECTS
}


def claim(session: Session, *, limit: int, lease: timedelta, holder: str,
          now: datetime | None = None) -> list[Job]:
    """Take up to `limit` due jobs for worker `holder` until `now + lease`.

    A job whose lease lapsed while a holder was named is a takeover (that worker died or hung,
    perhaps after calling Slack): the returned Job says so in `taken_over`."""
    now = now or utcnow()
    due = (
        select(Job.id, Job.locked_by)
        .where(
            Job.status == JOB_PENDING,
            Job.run_at <= now,
            or_(Job.locked_until.is_(None), Job.locked_until < now),
        )
        .order_by(Job.run_at, Job.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = session.execute(due).all()
    if not rows:
        return []
    previous = {row.id: row.locked_by for row in rows}
    # The WHERE repeats the due condition: a compare-and-set, so a job another worker took
    # in between (possible on PostgreSQL under READ COMMITTED) is not taken twice.
    stmt = (
        update(Job)
        .where(
            Job.id.in_(previous),
            Job.status == JOB_PENDING,
            or_(Job.locked_until.is_(None), Job.locked_until < now),
        )
        .values(locked_until=now + lease, locked_by=holder, attempts=Job.attempts + 1)
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    jobs = list(session.scalars(stmt).all())
    for job in jobs:
        job.taken_over = previous.get(job.id) is not None
    return jobs


def renew(session: Session, *, holder: str, lease: timedelta, now: datetime | None = None,
          ids: Collection[int] | None = None) -> int:
    """Heartbeat: extend every lease `holder` still has (of the jobs `ids`, when given: the ones the worker
    knows it holds), in one UPDATE. Returns how many."""
    now = now or utcnow()
    cond = [Job.locked_by == holder, Job.status == JOB_PENDING, Job.locked_until.is_not(None)]
    if ids is not None:
        cond.append(Job.id.in_(list(ids)))
    result = session.execute(
        update(Job)
        .where(*cond)
        .values(locked_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def release(session: Session, *, holder: str) -> int:
    """Hand back every job `holder` still holds (shutting down): others may take them at once."""
    result = session.execute(
        update(Job)
        .where(Job.locked_by == holder, Job.status == JOB_PENDING)
        .values(locked_until=None, locked_by=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _held(job_id: int, holder: str | None) -> Any:
    """Compare-and-set on the lease: only the worker holding the job may settle it."""
    cond = Job.id == job_id
    if holder is not None:
        cond = and_(cond, Job.locked_by == holder, Job.status == JOB_PENDING)
    return cond


def finish(session: Session, job_id: int, *, status: str = JOB_DONE, error: str | None = None,
           holder: str | None = None, payload: dict[str, Any] | None = None) -> bool:
    """Mark the job done (or failed). With `holder`, only if that worker still holds it; False
    when its lease was lost to another worker (then the caller must not commit its work). `payload`
    replaces the job's payload in the same UPDATE (a finished job need not keep what people wrote)."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "locked_until": None, "locked_by": None,
                              "last_error": error}
    if payload is not None:
        values["payload"] = payload
    result = session.execute(
        update(Job).where(_held(job_id, holder)).values(**values).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def reschedule(session: Session, job_id: int, *, run_at: datetime, error: str | None,
               refund_attempt: bool = False, holder: str | None = None) -> bool:
    values: dict[str, Any] = {"run_at": run_at, "locked_until": None, "locked_by": None, "last_error": error}
    if refund_attempt:  # pacing is not a failed attempt
        values["attempts"] = Job.attempts - 1
    result = session.execute(
        update(Job).where(_held(job_id, holder)).values(**values).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def keep_payload(session: Session, job: Job, payload: dict[str, Any], *, progressed: bool = False) -> bool:
    """Store how far a long job got (a cursor, an uploaded file's id) on the job itself, in the
    caller's transaction with the work it did: a retry, here or on another worker after a crash,
    starts from there. With `progressed`, the job's attempt budget starts again (a job that moves
    forward is not failing, however many 429s it met). Only while `job.locked_by` still holds it;
    False otherwise (the caller must then roll back). Updates `job` in memory too."""
    values: dict[str, Any] = {"payload": payload}
    if progressed:
        values["attempts"] = 1  # this run
    result = session.execute(
        update(Job).where(_held(job.id, job.locked_by)).values(**values).execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        return False
    job.payload = payload
    if progressed:
        job.attempts = 1
    return True


def purge_finished(session: Session, *, older_than: timedelta) -> int:
    """Delete finished jobs past the window in which Slack could still redeliver their event."""
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(Job).where(and_(Job.status.in_((JOB_DONE, JOB_FAILED)), Job.finished_at < cutoff))
    )
    return result.rowcount or 0
