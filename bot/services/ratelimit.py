"""Per-person rate limits on recording (and, in a bucket of its own, searching): a burst of a few, then a steady rate.

A token bucket, stored as GCRA's "theoretical arrival time" (TAT): each accepted action moves the
person's TAT one interval (60 / per_minute s) forward from max(TAT, now); an action is accepted
while TAT <= now + (burst - 1) * interval.

Two buckets with the same rule:
* **The authority** is in the database (`take`): one upsert, `INSERT … ON CONFLICT DO UPDATE … WHERE
  tat <= :limit RETURNING tat`, in the transaction that records the thing (inside the recording
  services, so no entry point can skip it): no row back means "slow down" and nothing is recorded.
  A rolled-back recording gives its token back with it. It holds across replicas and restarts.
* **A per-process copy** (`LocalLimiter`) answers on the ack path of `/aiwin`, which must not write
  more than the command itself: it refuses what this process has already seen go over the limit,
  without a write. With N replicas behind a load balancer a person's burst can reach N × burst
  acknowledged commands before the authority, in the worker, refuses the rest (and tells the
  author which win was not recorded); the steady rate is held exactly by the authority."""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from sqlalchemy import bindparam, case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.models import RateLimit

WIN, NARRATIVE, NOMINATION, TRY = "win", "narrative", "nomination", "try"
SEARCH = "search"  # searches (the command and the App Home box): their own bucket and numbers (search_limits_of)
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


def waiting(session: Session, team_id: str, user_id: str, action: str, limits: Limits, *,
            now: float | None = None) -> float | None:
    """The seconds `user_id` must wait before `action` is allowed again, or None: a read, no token taken."""
    now = time.time() if now is None else now
    tat = session.scalar(select(_T.c.tat).where(_T.c.team_id == team_id, _T.c.user_id == user_id,
                                                _T.c.action == action))
    tolerance = (limits.burst - 1) * limits.interval
    return max(tat - tolerance - now, 1.0) if tat is not None and tat > now + tolerance else None


def limits_of(settings: object) -> Limits:
    return Limits(burst=getattr(settings, "rate_burst", 5), per_minute=getattr(settings, "rate_per_minute", 6.0))


def search_limits_of(settings: object) -> Limits:
    return Limits(burst=getattr(settings, "search_burst", 10), per_minute=getattr(settings, "search_per_minute", 20.0))


class LocalLimiter:
    """The same GCRA rule, in this process's memory (see the module docstring for what it is for).
    Buckets are forgotten once full again (their TAT is in the past), so memory follows the people
    active in the last few minutes, not everyone ever seen."""

    def __init__(self, limits: Limits, *, max_people: int = 100_000) -> None:
        self.limits = limits
        window = max(limits.burst * limits.interval, 1.0)
        self._tat: TTLCache[tuple[str, str, str], float] = TTLCache(maxsize=max_people, ttl=window)
        self._lock = threading.Lock()

    def take(self, team_id: str, user_id: str, action: str, *, now: float | None = None) -> float | None:
        """None when allowed (and counted); else the seconds to wait."""
        now = time.time() if now is None else now
        interval = self.limits.interval
        tolerance = (self.limits.burst - 1) * interval
        key = (team_id, user_id, action)
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            if tat > now + tolerance:
                return max(tat - tolerance - now, 1.0)
            self._tat[key] = tat + interval
        return None
