"""Per-person rate limits on recording: a burst of a few, then a steady rate (issue 9 item 6).

A token bucket, stored as GCRA's "theoretical arrival time" (TAT): each accepted action moves the
person's TAT one interval (60 / per_minute s) forward from max(TAT, now); an action is accepted
while TAT <= now + (burst - 1) * interval. That is one upsert, `INSERT … ON CONFLICT DO UPDATE …
WHERE tat <= :limit RETURNING tat`, in the transaction that records the win: no row back means
"slow down", and nothing else is written. A rolled-back win gives its token back with it.

Why the database and not memory: with several replicas (or several worker threads behind a load
balancer) an in-memory bucket lets a person through once per replica, and a restart resets it.
The cost is one statement on the ack path, in a transaction that is being opened anyway; it is a
single-row primary-key upsert (well under a millisecond locally on SQLite and PostgreSQL, see
bench/), small next to the win's own inserts. Rows are tiny (one per person per action)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.models import RateLimit

WIN, NARRATIVE, NOMINATION = "win", "narrative", "nomination"
_T = RateLimit.__table__


@dataclass(frozen=True)
class Limits:
    burst: int = 5
    per_minute: float = 6.0

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute


def take(session: Session, team_id: str, user_id: str, action: str, limits: Limits, *,
         now: float | None = None) -> float | None:
    """Take one token for `user_id`'s `action`. None when allowed (and recorded in this
    transaction); else the seconds to wait before the next one would be allowed."""
    now = time.time() if now is None else now
    interval = limits.interval
    tolerance = (limits.burst - 1) * interval
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(_T).values(team_id=team_id, user_id=user_id, action=action, tat=now + interval)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_T.c.team_id, _T.c.user_id, _T.c.action],
        set_={"tat": case((_T.c.tat > now, _T.c.tat), else_=now) + interval},
        where=_T.c.tat <= now + tolerance,
    ).returning(_T.c.tat)
    if session.execute(stmt).first() is not None:
        return None
    tat = session.scalar(select(_T.c.tat).where(_T.c.team_id == team_id, _T.c.user_id == user_id,
                                                _T.c.action == action))
    return max((tat or now) - tolerance - now, 1.0)


def limits_of(settings: object) -> Limits:
    return Limits(burst=getattr(settings, "rate_burst", 5), per_minute=getattr(settings, "rate_per_minute", 6.0))
