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

import functools
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, select
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


@functools.cache
def _take_stmt(dialect: str) -> Any:
    """GCRA in one upsert: a new bucket starts at now + interval; an existing one moves on from
    max(tat, now) by one interval, unless that would pass now + tolerance (then nothing changes and
    no row is returned). Built once per dialect: it runs on the ack path of every win."""
    tat = _T.c.tat
    now = bindparam("p_now", type_=tat.type)
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(_T).values(
        team_id=bindparam("p_team"), user_id=bindparam("p_user"), action=bindparam("p_action"),
        tat=bindparam("p_first", type_=tat.type))
    return stmt.on_conflict_do_update(
        index_elements=[_T.c.team_id, _T.c.user_id, _T.c.action],
        set_={"tat": case((tat > now, tat), else_=now) + bindparam("p_interval", type_=tat.type)},
        where=tat <= bindparam("p_latest", type_=tat.type),
    ).returning(tat)


def take(session: Session, team_id: str, user_id: str, action: str, limits: Limits, *,
         now: float | None = None) -> float | None:
    """Take one token for `user_id`'s `action`. None when allowed (and recorded in this
    transaction); else the seconds to wait before the next one would be allowed."""
    now = time.time() if now is None else now
    interval = limits.interval
    tolerance = (limits.burst - 1) * interval
    params = {"p_team": team_id, "p_user": user_id, "p_action": action, "p_first": now + interval,
              "p_now": now, "p_interval": interval, "p_latest": now + tolerance}
    if session.execute(_take_stmt(session.get_bind().dialect.name), params).first() is not None:
        return None
    tat = session.scalar(select(_T.c.tat).where(_T.c.team_id == team_id, _T.c.user_id == user_id,
                                                _T.c.action == action))
    return max((tat or now) - tolerance - now, 1.0)


def limits_of(settings: object) -> Limits:
    return Limits(burst=getattr(settings, "rate_burst", 5), per_minute=getattr(settings, "rate_per_minute", 6.0))
