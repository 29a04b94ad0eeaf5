"""A durable job queue in the database: the outbox for Slack calls and the inbox for events.

Work is enqueued in the same transaction as the data it concerns (a win and its celebration
post commit together), so nothing is lost if the process dies after the ack. Workers claim
due jobs with a lease (compare-and-set), so any number of processes can share the queue;
PostgreSQL additionally skips rows another worker holds (`FOR UPDATE SKIP LOCKED`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.models import JOB_DONE, JOB_FAILED, JOB_PENDING, Job, utcnow


def insert_ignore(session: Session, model: type, values: dict[str, Any], *, returning=None) -> Any:  # noqa: ANN001
    """INSERT … ON CONFLICT DO NOTHING on either database. Returns the result of execute()."""
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(model).values(**values)
    stmt = stmt.on_conflict_do_nothing()
    if returning is not None:
        stmt = stmt.returning(returning)
    return session.execute(stmt)


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
    stmt = _ENQUEUE[session.get_bind().dialect.name == "postgresql"]
    result = session.execute(stmt, {
        "team_id": team_id, "enterprise_id": enterprise_id, "kind": kind, "payload": payload,
        "dedupe_key": dedupe_key, "status": JOB_PENDING, "attempts": 0, "run_at": run_at or now,
        "locked_until": None, "last_error": None, "created_at": now, "finished_at": None,
    })
    return result.scalar_one_or_none()


# Built once per dialect: enqueueing is on the ack path of every win and event.
_ENQUEUE = {
    is_pg: (pg_insert if is_pg else sqlite_insert)(Job.__table__)
    .on_conflict_do_nothing()
    .returning(Job.__table__.c.id)
    for is_pg in (False, True)
}


def claim(session: Session, *, limit: int, lease: timedelta, now: datetime | None = None) -> list[Job]:
    """Take up to `limit` due jobs for this worker until `now + lease`."""
    now = now or utcnow()
    due = (
        select(Job.id)
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
    ids = session.scalars(due).all()
    if not ids:
        return []
    # The WHERE repeats the due condition: a compare-and-set, so a job another worker took
    # in between (possible on PostgreSQL under READ COMMITTED) is not taken twice.
    stmt = (
        update(Job)
        .where(
            Job.id.in_(ids),
            Job.status == JOB_PENDING,
            or_(Job.locked_until.is_(None), Job.locked_until < now),
        )
        .values(locked_until=now + lease, attempts=Job.attempts + 1)
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(stmt).all())


def finish(session: Session, job_id: int, *, status: str = JOB_DONE, error: str | None = None) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=status, finished_at=utcnow(), locked_until=None, last_error=error)
    )


def reschedule(session: Session, job_id: int, *, run_at: datetime, error: str | None,
               refund_attempt: bool = False) -> None:
    values: dict[str, Any] = {"run_at": run_at, "locked_until": None, "last_error": error}
    if refund_attempt:  # pacing is not a failed attempt
        values["attempts"] = Job.attempts - 1
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def purge_finished(session: Session, *, older_than: timedelta) -> int:
    """Delete finished jobs past the window in which Slack could still redeliver their event."""
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(Job).where(and_(Job.status.in_((JOB_DONE, JOB_FAILED)), Job.finished_at < cutoff))
    )
    return result.rowcount or 0
