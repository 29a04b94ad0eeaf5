""""I tried it too": a person records that they adopted the practice of a win or a story.

Once per person and thing (a unique row); the thing's owners (a win's owners, a story's author) are
declined politely, since nobody adopts their own practice; the per-person limit applies (its own
bucket, ratelimit.TRY), taken here so every way in obeys it. Recording a try queues, in the same
transaction, the job that shows the new count on the message (chat.update) and, at most once a day
per owner (a job keyed by owner and UTC day), a DM telling the owner.

What the figures make of tries (practices spread, teach-back reach, the week's most-tried win) is
defined in bot/services/figures.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.models import Narrative, Tried, Win, WinOwner, utcnow
from bot.models.queue import enqueue
from bot.services import ratelimit
from bot.services.ratelimit import Limits

TRIED_UPDATE = "tried_update"  # show the new count on the message(s)
TRIED_NOTICE = "tried_notice"  # tell an owner, at most once a day

WIN, STORY = "w", "n"  # a button's value: "w:12" (win 12), "n:3" (story 3)

OK, ALREADY, OWN, NOT_FOUND, SLOW_DOWN = "ok", "already", "own", "not_found", "slow_down"


@dataclass(frozen=True)
class Target:
    kind: str  # WIN or STORY
    id: int

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"


def parse_target(value: str | None) -> Target | None:
    """A button's value ("w:12", "n:3") → Target; anything else → None."""
    kind, _, number = (value or "").partition(":")
    if kind not in (WIN, STORY) or not number.isdigit() or not 0 < int(number) < 2**63:
        return None
    return Target(kind, int(number))


@dataclass(frozen=True)
class TryResult:
    status: str  # OK, ALREADY, OWN, NOT_FOUND, SLOW_DOWN
    count: int = 0  # people who tried it, this one included
    wait: float | None = None  # SLOW_DOWN: seconds until the next try is allowed


def count(session: Session, target: Target) -> int:
    column = Tried.win_id if target.kind == WIN else Tried.narrative_id
    return session.scalar(select(func.count()).select_from(Tried).where(column == target.id)) or 0


def _owners(session: Session, target: Target) -> tuple[str, ...] | None:
    if target.kind == WIN:
        author = session.scalar(select(Win.author_id).where(Win.id == target.id))
        if author is None:
            return None
        owners = session.scalars(select(WinOwner.user_id).where(WinOwner.win_id == target.id)).all()
        return tuple(owners) or (author,)
    author = session.scalar(select(Narrative.author_id).where(Narrative.id == target.id))
    return None if author is None else (author,)


def _insert(session: Session, values: dict) -> bool:
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(Tried.__table__).values(**values)
    return session.execute(stmt.on_conflict_do_nothing().returning(Tried.__table__.c.id)).first() is not None


def tried_it(session: Session, *, team_id: str, enterprise_id: str | None, user_id: str, target: Target,
             limits: Limits, pressed: tuple[str, str] | None = None, now: datetime | None = None) -> TryResult:
    """Record `user_id`'s "I tried it too" on `target`. `pressed`: the (channel, ts) of the message the
    button was on, updated with the new count along with the thing's own message."""
    owners = _owners(session, target)
    if owners is None:
        return TryResult(NOT_FOUND)
    if user_id in owners:
        return TryResult(OWN, count(session, target))
    column = Tried.win_id if target.kind == WIN else Tried.narrative_id
    if session.scalar(select(Tried.id).where(column == target.id, Tried.user_id == user_id)) is not None:
        return TryResult(ALREADY, count(session, target))
    wait = ratelimit.take(session, team_id, user_id, ratelimit.TRY, limits)
    if wait is not None:
        return TryResult(SLOW_DOWN, count(session, target), wait=wait)
    now = now or utcnow()
    values = {"team_id": team_id, "enterprise_id": enterprise_id, "user_id": user_id, "created_at": now,
              "win_id": target.id if target.kind == WIN else None,
              "narrative_id": target.id if target.kind == STORY else None}
    if not _insert(session, values):  # the same press, arriving twice at once
        return TryResult(ALREADY, count(session, target))
    total = count(session, target)
    payload: dict = {"target": target.value}
    if pressed:
        payload["pressed"] = list(pressed)
    enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=TRIED_UPDATE, payload=payload,
            dedupe_key=f"{TRIED_UPDATE}:{target.value}:{total}")
    for owner in owners:
        enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=TRIED_NOTICE,
                payload={"owner_id": owner, "user_id": user_id, "target": target.value},
                dedupe_key=f"{TRIED_NOTICE}:{owner}:{now.date().isoformat()}")
    return TryResult(OK, total)
