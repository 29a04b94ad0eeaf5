"""Weekly schedules (digest, leadership prompts) and the claims that make each post happen once.

A `Subscription` says which weekday and wall-clock time, in which IANA zone. Its most recent due
instant is computed with zoneinfo: the wall time on that weekday, mapped to UTC with `fold=0`, so
a time that does not exist on a spring-forward day (02:30) falls an hour later (03:30, as
APScheduler's CronTrigger does) and a time that happens twice on a fall-back day counts once
(the first). The period of a delivery (`period_of`) is the week of the day before it is due: a UTC ISO
week, the week every figure uses (bot/services/figures.py), so a digest shows exactly the week its period
names. A Friday digest shows the week so far; one due on a Monday, or on a Sunday evening in the Americas
(already Monday in UTC), the week that has just ended rather than one barely begun. Due instants are a
week apart, so each has its own week; the one exception is a schedule within an hour of Tuesday 00:00
UTC when daylight saving changes, where two fall in one week (the second is not posted) or a week is
passed over.

A `Delivery` row is the claim on (team, kind, channel, period): inserted with
INSERT … ON CONFLICT DO NOTHING before anything is posted, so of any number of schedulers,
replicas and CLI runs exactly one inserts it, and only that one enqueues the post."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from bot.models import (
    DELIVERY_CLAIMED,
    DELIVERY_FAILED,
    DELIVERY_POSTED,
    KIND_DIGEST,
    KIND_PROMPTS,
    Delivery,
    Subscription,
    utcnow,
)
from bot.models.queue import insert_ignore
from bot.services.people import DEFAULT_TZ
from bot.services.workspaces import still_installed

# A due instant older than this when first seen (the app was down) is skipped, not posted late:
# a Friday-afternoon digest still makes sense on Saturday morning, not on Monday.
GRACE = timedelta(hours=36)
# Recorded for a due instant that was missed by more than GRACE, so it is logged and shown once.
DELIVERY_SKIPPED = "skipped"

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS = {name.lower(): i for i, name in enumerate(DAY_NAMES)} | {
    name[:3].lower(): i for i, name in enumerate(DAY_NAMES)
}
DEFAULTS = {KIND_DIGEST: (4, 16, 0), KIND_PROMPTS: (0, 9, 0)}  # Friday 16:00, Monday 09:00

_TIME_24 = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_TIME_12 = re.compile(r"(1[0-2]|0?[1-9])(?::([0-5]\d))?([ap])\.?m\.?", re.IGNORECASE)
_WEEK = re.compile(r"(\d{4})-W(\d{1,2})", re.IGNORECASE)


class ScheduleError(ValueError):
    """Day/time words that could not be understood. `word` is the user's word, unescaped."""

    def __init__(self, problem: str, word: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.word = word


@dataclass(frozen=True)
class Schedule:
    weekday: int  # 0 = Monday
    hour: int
    minute: int

    def describe(self, tz: str) -> str:
        return f"Every {DAY_NAMES[self.weekday]} at {self.hour:02d}:{self.minute:02d} {tz}"


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    team_id: str
    enterprise_id: str | None
    kind: str
    channel_id: str
    schedule: Schedule
    tz: str
    active: bool
    created_by: str
    active_since: datetime  # due instants before this are not delivered (set by every `on`)

    def describe(self) -> str:
        return self.schedule.describe(self.tz)


@dataclass(frozen=True)
class DeliveryView:
    id: int
    team_id: str
    kind: str
    channel_id: str
    period: str
    prompt_key: str | None
    status: str
    message_ts: str | None
    error: str | None
    claimed_at: datetime
    posted_at: datetime | None


def parse_schedule(text: str, kind: str) -> Schedule:
    """"fri 4pm", "Friday 16:00", "16:00", "" (the default) … → Schedule. Raises ScheduleError."""
    weekday, hour, minute = DEFAULTS[kind]
    words = text.split()
    # "4 pm" → "4pm"
    merged: list[str] = []
    for word in words:
        if merged and word.lower().rstrip(".") in ("am", "pm", "a.m", "p.m") and merged[-1].isdigit():
            merged[-1] += word
        else:
            merged.append(word)
    seen_day = seen_time = False
    for word in merged:
        key = word.lower().rstrip(",")
        if key in _DAYS:
            if seen_day:
                raise ScheduleError("two days", word)
            weekday, seen_day = _DAYS[key], True
            continue
        parsed = _parse_time(key)
        if parsed is None:
            raise ScheduleError("unknown word", word)
        if seen_time:
            raise ScheduleError("two times", word)
        (hour, minute), seen_time = parsed, True
    return Schedule(weekday, hour, minute)


def _parse_time(word: str) -> tuple[int, int] | None:
    m = _TIME_24.fullmatch(word)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _TIME_12.fullmatch(word)
    if m:
        hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
        return hour, int(m.group(2) or 0)
    return None


def valid_tz(tz: str | None) -> str:
    """The zone if zoneinfo knows it, else UTC (Slack sends IANA names, but never trust input)."""
    if tz:
        try:
            ZoneInfo(tz)
            return tz
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return DEFAULT_TZ


def _wall(day: date, schedule: Schedule, zone: ZoneInfo) -> datetime:
    # fold=0: a missing wall time maps with the offset before the gap (an hour later in
    # wall-clock terms); a repeated one is its first occurrence.
    return datetime.combine(day, time(schedule.hour, schedule.minute), tzinfo=zone).astimezone(UTC)


def last_due(schedule: Schedule, tz: str, now: datetime) -> datetime:
    """The most recent due instant at or before `now` (UTC)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - schedule.weekday) % 7)
    due = _wall(day, schedule, zone)
    return due if due <= now else _wall(day - timedelta(days=7), schedule, zone)


def next_due(schedule: Schedule, tz: str, now: datetime) -> datetime:
    """The first due instant after `now` (UTC)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=(schedule.weekday - local.weekday()) % 7)
    due = _wall(day, schedule, zone)
    return due if due > now else _wall(day + timedelta(days=7), schedule, zone)


def iso_week(instant: datetime) -> str:
    """"2026-W48": the week `instant` falls in (a UTC ISO week, as every figure's week: bot/services/
    figures.py). A delivery's period: one digest or prompt per channel and week, whatever the zone."""
    year, week, _ = instant.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def period_of(due: datetime) -> str:
    """The week a delivery due at `due` is about: that of the day before (see the module docstring)."""
    return iso_week(due - timedelta(days=1))


def parse_week(text: str) -> str:
    """Normalise "2026-W48" (or "2026-w48"); raises ValueError for anything else or a week that
    does not exist (W53 of a 52-week year)."""
    m = _WEEK.fullmatch(text.strip())
    if not m:
        raise ValueError(text)
    year, week = int(m.group(1)), int(m.group(2))
    date.fromisocalendar(year, week, 1)  # raises ValueError for a week the year does not have
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday of ISO week "2026-W48"."""
    year, number = (int(x) for x in parse_week(week).split("-W"))
    return date.fromisocalendar(year, number, 1)


# -- subscriptions -------------------------------------------------------------------------------------


def _view(sub: Subscription) -> SubscriptionView:
    return SubscriptionView(
        id=sub.id, team_id=sub.team_id, enterprise_id=sub.enterprise_id, kind=sub.kind,
        channel_id=sub.channel_id, schedule=Schedule(sub.weekday, sub.hour, sub.minute), tz=sub.tz,
        active=sub.active, created_by=sub.created_by, active_since=sub.updated_at,
    )


def subscribe(
    session: Session,
    *,
    team_id: str,
    enterprise_id: str | None,
    kind: str,
    channel_id: str,
    schedule: Schedule,
    tz: str,
    user_id: str,
    now: datetime | None = None,
) -> SubscriptionView:
    """Turn `kind` on in `channel_id` (or change its schedule). Takes effect at the next tick."""
    now = now or utcnow()
    tz = valid_tz(tz)
    values = {"weekday": schedule.weekday, "hour": schedule.hour, "minute": schedule.minute, "tz": tz,
              "active": True, "created_by": user_id, "enterprise_id": enterprise_id, "updated_at": now}
    inserted = insert_ignore(
        session, Subscription,
        {"team_id": team_id, "kind": kind, "channel_id": channel_id, "created_at": now, **values},
        returning=Subscription.id,
    ).scalar_one_or_none()
    if inserted is None:  # it existed (maybe just inserted by a concurrent `on`): update it
        session.execute(
            update(Subscription)
            .where(Subscription.team_id == team_id, Subscription.kind == kind,
                   Subscription.channel_id == channel_id)
            .values(**values)
        )
    sub = session.scalars(
        select(Subscription).where(Subscription.team_id == team_id, Subscription.kind == kind,
                                   Subscription.channel_id == channel_id)
        .execution_options(populate_existing=True)
    ).one()
    return _view(sub)


def unsubscribe(session: Session, *, team_id: str, kind: str, channel_id: str,
                now: datetime | None = None) -> bool:
    """Turn it off. Returns False when it was not on."""
    result = session.execute(
        update(Subscription)
        .where(Subscription.team_id == team_id, Subscription.kind == kind,
               Subscription.channel_id == channel_id, Subscription.active.is_(True))
        .values(active=False, updated_at=now or utcnow())
    )
    return bool(result.rowcount)


def get_subscription(session: Session, team_id: str, kind: str, channel_id: str) -> SubscriptionView | None:
    sub = session.scalars(
        select(Subscription).where(Subscription.team_id == team_id, Subscription.kind == kind,
                                   Subscription.channel_id == channel_id)
    ).first()
    return _view(sub) if sub else None


def active_subscriptions(session: Session, *, team_id: str | None = None,
                         kind: str | None = None) -> list[SubscriptionView]:
    """Active subscriptions of one workspace, or of all the workspaces the app is installed in (the
    scheduler's deliberate cross-workspace read) when `team_id` is None."""
    stmt = select(Subscription).where(Subscription.active.is_(True)).order_by(Subscription.id)
    if kind:
        stmt = stmt.where(Subscription.kind == kind)
    stmt = (stmt.where(still_installed(Subscription.team_id)).execution_options(all_tenants=True)
            if team_id is None else stmt.where(Subscription.team_id == team_id))
    return [_view(s) for s in session.scalars(stmt).all()]


# -- deliveries ----------------------------------------------------------------------------------------

DeliveryKey = tuple[str, str, str, str]  # (team_id, kind, channel_id, period)


def _delivery_view(d: Delivery) -> DeliveryView:
    return DeliveryView(
        id=d.id, team_id=d.team_id, kind=d.kind, channel_id=d.channel_id, period=d.period,
        prompt_key=d.prompt_key, status=d.status, message_ts=d.message_ts, error=d.error,
        claimed_at=d.claimed_at, posted_at=d.posted_at,
    )


def existing_deliveries(session: Session, keys: list[DeliveryKey]) -> set[DeliveryKey]:
    """Which of these (team, kind, channel, period) already have a Delivery row: point lookups
    on the unique index, across workspaces (the scheduler's view)."""
    found: set[DeliveryKey] = set()
    cols = (Delivery.team_id, Delivery.kind, Delivery.channel_id, Delivery.period)
    for i in range(0, len(keys), 200):
        chunk = keys[i : i + 200]
        rows = session.execute(
            select(*cols).where(tuple_(*cols).in_(chunk)).execution_options(all_tenants=True)
        ).all()
        found.update((r[0], r[1], r[2], r[3]) for r in rows)
    return found


def claim_delivery(
    session: Session,
    *,
    team_id: str,
    kind: str,
    channel_id: str,
    period: str,
    subscription_id: int | None,
    prompt_key: str | None = None,
    status: str = DELIVERY_CLAIMED,
    error: str | None = None,
    now: datetime | None = None,
    retake: bool = False,
) -> int | None:
    """Insert the claim; returns its id if this caller made it, None if someone else holds it.

    `retake=True` (an operator's explicit `--post`) also takes over a claim that ended failed or
    skipped, with a compare-and-set so two such runs still get one winner."""
    now = now or utcnow()
    result = insert_ignore(
        session, Delivery,
        {"team_id": team_id, "kind": kind, "channel_id": channel_id, "period": period,
         "subscription_id": subscription_id, "prompt_key": prompt_key, "status": status, "error": error,
         "claimed_at": now},
        returning=Delivery.id,
    )
    delivery_id = result.scalar_one_or_none()
    if delivery_id is not None or not retake:
        return delivery_id
    again = session.execute(
        update(Delivery)
        .where(Delivery.team_id == team_id, Delivery.kind == kind, Delivery.channel_id == channel_id,
               Delivery.period == period, Delivery.status.in_((DELIVERY_FAILED, DELIVERY_SKIPPED)))
        .values(status=DELIVERY_CLAIMED, error=None, claimed_at=now, prompt_key=prompt_key)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return again.scalar_one_or_none()


def get_delivery(session: Session, delivery_id: int) -> DeliveryView | None:
    d = session.get(Delivery, delivery_id)
    return _delivery_view(d) if d else None


def find_delivery(session: Session, team_id: str, kind: str, channel_id: str,
                  period: str) -> DeliveryView | None:
    d = session.scalars(
        select(Delivery).where(Delivery.team_id == team_id, Delivery.kind == kind,
                               Delivery.channel_id == channel_id, Delivery.period == period)
    ).first()
    return _delivery_view(d) if d else None


def channel_history(session: Session, team_id: str, kind: str, channel_id: str) -> list[DeliveryView]:
    """A channel's deliveries of one kind, oldest period first (one row a week: a short list)."""
    rows = session.scalars(
        select(Delivery).where(Delivery.team_id == team_id, Delivery.kind == kind,
                               Delivery.channel_id == channel_id).order_by(Delivery.period, Delivery.id)
    ).all()
    return [_delivery_view(d) for d in rows]


def mark_posted(session: Session, delivery_id: int, ts: str, now: datetime | None = None) -> None:
    session.execute(
        update(Delivery).where(Delivery.id == delivery_id)
        .values(status=DELIVERY_POSTED, message_ts=ts, error=None, posted_at=now or utcnow())
    )


def mark_skipped(session: Session, delivery_id: int, reason: str) -> bool:
    """Record that it was not sent on purpose, and why (never over a posted one). True when recorded."""
    result = session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status != DELIVERY_POSTED)
        .values(status=DELIVERY_SKIPPED, error=reason[:1000])
    )
    return bool(result.rowcount)


def mark_failed(session: Session, delivery_id: int, error: str) -> bool:
    """Record why it could not be posted (never over a posted one). True when recorded."""
    result = session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status != DELIVERY_POSTED)
        .values(status=DELIVERY_FAILED, error=error[:1000])
    )
    return bool(result.rowcount)
