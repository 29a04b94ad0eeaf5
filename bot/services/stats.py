"""The figures behind `/aiwin stats` and App Home: one place, aggregated in SQL.

Every query is an index range: a workspace's wins by (team_id, created_at), one person's wins
by (team_id, user_id, created_at) on win_owners. Only the few rows a view shows are fetched.

Counting rules (the same everywhere):
* a person's figures count every win they own, with the win's full time saved (a shout-out to
  two people that "saved 3h" saved each of them 3 h of work);
* team figures count each win once, and leave out people who opted out: a win naming anyone who
  opted out is left out entirely (as in the digest), and they are not counted as people, in
  coverage or among leaders (their own view stays complete);
* weeks start on Monday and months on the 1st, in the viewer's Slack time zone;
* coverage is the share of active members (not bots, not deleted, not opted out) who own at
  least one win in the last 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from bot.models import (
    ActivityPerson,
    ActivityWeek,
    ActivityWeekDestination,
    ActivityWeekTool,
    Member,
    Narrative,
    Win,
    WinOwner,
    Workspace,
    utcnow,
)
from bot.services import rollups
from bot.services.people import DEFAULT_TZ, opted_out_ids

COVERAGE_WINDOW = timedelta(days=30)
TOP_TOOLS = 3
UNTOLD = "untold"  # minutes saved whose destination nobody gave


@dataclass(frozen=True)
class Split:
    """Minutes saved by where the time went (keys of REINVEST_CATEGORIES) plus UNTOLD."""

    minutes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.minutes.values())

    @property
    def told(self) -> dict[str, int]:
        """The categories people named, largest first."""
        named = {k: v for k, v in self.minutes.items() if k != UNTOLD and v}
        return dict(sorted(named.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True)
class PeriodFigures:
    start: datetime
    end: datetime
    wins: int
    people: int
    minutes: int
    split: Split
    tools: dict[str, int]  # wins per tool

    @property
    def top_tools(self) -> tuple[tuple[str, int], ...]:
        return top_tools(self.tools)


def top_tools(tools: dict[str, int], limit: int = TOP_TOOLS) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(tools.items(), key=lambda kv: (-kv[1], kv[0].lower()))[:limit])


@dataclass(frozen=True)
class Coverage:
    active: int  # members counted (not bots, not deleted, not opted out)
    covered: int  # of those, owners of a win in the last 30 days

    @property
    def share(self) -> float | None:
        return self.covered / self.active if self.active else None


@dataclass(frozen=True)
class PersonalFigures:
    wins: int
    wins_week: int
    wins_month: int
    minutes: int
    minutes_week: int
    minutes_month: int
    split: Split  # all time


@dataclass(frozen=True)
class StatsReport:
    user_id: str
    tz: str
    personal: PersonalFigures
    week: PeriodFigures
    month: PeriodFigures
    coverage: Coverage
    opted_out: bool


# -- time ----------------------------------------------------------------------------------------------


def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def week_start(now: datetime, tz: str | None) -> datetime:
    """Monday 00:00 of `now`'s week in `tz`, as an aware datetime."""
    local = now.astimezone(zone(tz))
    monday = (local - timedelta(days=local.weekday())).date()
    return datetime(monday.year, monday.month, monday.day, tzinfo=local.tzinfo)


def month_start(now: datetime, tz: str | None) -> datetime:
    local = now.astimezone(zone(tz))
    return datetime(local.year, local.month, 1, tzinfo=local.tzinfo)


def weeks_back(now: datetime, tz: str | None, count: int) -> list[tuple[datetime, datetime]]:
    """(start, end) of the `count` weeks ending with this one, oldest first; this week ends at `now`.
    Week starts are computed on the calendar, so a DST change never shifts a Monday."""
    this_monday = week_start(now, tz)
    starts = []
    for back in range(count - 1, -1, -1):
        day = (this_monday.replace(tzinfo=None) - timedelta(weeks=back))
        starts.append(day.replace(tzinfo=this_monday.tzinfo))
    ends = starts[1:] + [now]
    return list(zip(starts, ends, strict=True))


def viewer_tz(session: Session, team_id: str, user_id: str) -> str:
    """The time zone Slack gave for this person (cached in `members`), else UTC."""
    tz = session.scalar(select(Member.tz).where(Member.team_id == team_id, Member.user_id == user_id))
    return tz or DEFAULT_TZ


# -- who opted out ---------------------------------------------------------------------------------------


def _hidden_wins(team_id: str, hidden: set[str], start: datetime, end: datetime) -> Any:
    """Ids of the wins in [start, end) that name someone who opted out (a small set)."""
    return select(WinOwner.win_id).where(WinOwner.team_id == team_id, WinOwner.created_at >= start,
                                         WinOwner.created_at < end, WinOwner.user_id.in_(hidden))


# -- team ----------------------------------------------------------------------------------------------


def period_figures(session: Session, team_id: str, start: datetime, end: datetime, *,
                   hidden: set[str] | None = None) -> PeriodFigures:
    """Wins, people, time saved, where it went and top tools for wins created in [start, end)."""
    return periods_figures(session, team_id, [(start, end)], hidden=hidden)[0]


def periods_figures(session: Session, team_id: str, periods: list[tuple[datetime, datetime]], *,
                    hidden: set[str] | None = None) -> list[PeriodFigures]:
    """The figures of back-to-back periods (e.g. five weeks) from two grouped scans of their whole
    range: each row is put in its period by a CASE on created_at, then summed here."""
    hidden = hidden if hidden is not None else opted_out_ids(session)
    first, last = periods[0][0], periods[-1][1]

    def bucket(column: Any) -> Any:
        if len(periods) == 1:
            return literal(0)
        return case(*((column < end, i) for i, (_, end) in enumerate(periods[:-1])), else_=len(periods) - 1)

    in_range = and_(Win.team_id == team_id, Win.created_at >= first, Win.created_at < last)
    owners = and_(WinOwner.team_id == team_id, WinOwner.created_at >= first, WinOwner.created_at < last)
    if hidden:
        hidden_wins = _hidden_wins(team_id, hidden, first, last)
        in_range = and_(in_range, Win.id.not_in(hidden_wins))
        owners = and_(owners, WinOwner.win_id.not_in(hidden_wins))
    win_bucket = bucket(Win.created_at).label("bucket")
    rows = session.execute(
        select(win_bucket, Win.reinvested_in, Win.tool, func.count(),
               func.coalesce(func.sum(Win.minutes_saved), 0))
        .where(in_range)
        .group_by(win_bucket, Win.reinvested_in, Win.tool)
    ).all()
    wins = [0] * len(periods)
    minutes = [0] * len(periods)
    splits: list[dict[str, int]] = [{} for _ in periods]
    tools: list[dict[str, int]] = [{} for _ in periods]
    for i, reinvested, tool, n, mins in rows:
        wins[i] += n
        minutes[i] += int(mins)
        if mins:
            key = reinvested or UNTOLD
            splits[i][key] = splits[i].get(key, 0) + int(mins)
        if tool:
            tools[i][tool] = tools[i].get(tool, 0) + n

    owner_bucket = bucket(WinOwner.created_at).label("bucket")
    # DISTINCT in a subquery: PostgreSQL hashes it, where count(DISTINCT …) would sort.
    pairs = select(owner_bucket, WinOwner.user_id).where(owners).distinct().subquery()
    people = dict(session.execute(select(pairs.c.bucket, func.count()).group_by(pairs.c.bucket)).all())
    return [PeriodFigures(start, end, wins[i], people.get(i, 0), minutes[i], Split(splits[i]), tools[i])
            for i, (start, end) in enumerate(periods)]


def coverage(session: Session, team_id: str, now: datetime, *, hidden: set[str] | None = None) -> Coverage:
    """Unknown (0 of 0) until users.list has been copied once: before that `members` holds only the
    few people looked up one by one, and a share of them would mislead."""
    synced = session.scalar(select(Workspace.members_synced_at).where(Workspace.team_id == team_id))
    if synced is None:
        return Coverage(active=0, covered=0)
    hidden = hidden if hidden is not None else opted_out_ids(session)
    active = and_(Member.team_id == team_id, Member.is_bot.is_(False), Member.deleted.is_(False))
    if hidden:
        active = and_(active, Member.user_id.not_in(hidden))
    total = session.scalar(select(func.count()).select_from(Member).where(active)) or 0
    # From the people active in the window's weeks (activity_people.last_week: a superset of those with
    # a win in it), not from every member: each is a member (a probe), and owned a win in a whole UTC
    # week inside the window (a probe into the weekly roll-ups) or, failing that, in the window itself
    # (an index-only probe into (team_id, user_id, created_at)).
    start = now - COVERAGE_WINDOW
    inner = [rollups.week_of(start - timedelta(microseconds=1)) + timedelta(weeks=1), rollups.week_of(now)]
    if now - datetime(inner[1].year, inner[1].month, inner[1].day, tzinfo=UTC) >= timedelta(weeks=1):
        inner[1] += timedelta(weeks=1)  # `now` is the very end of its week: that week is whole too
    person = ActivityPerson.user_id
    is_member = exists().where(Member.user_id == person, active)
    owned_in_weeks = exists().where(ActivityWeek.team_id == team_id, ActivityWeek.user_id == person,
                                    ActivityWeek.week >= inner[0], ActivityWeek.week < inner[1],
                                    ActivityWeek.wins_owned > 0)
    owned_in_window = exists().where(WinOwner.team_id == team_id, WinOwner.user_id == person,
                                     WinOwner.created_at >= start, WinOwner.created_at <= now)
    covered = session.scalar(select(func.count()).select_from(ActivityPerson).where(
        ActivityPerson.team_id == team_id, ActivityPerson.last_week >= rollups.week_of(start), is_member,
        or_(owned_in_weeks, owned_in_window))) or 0
    return Coverage(active=total, covered=covered)


def leaders_modeling(session: Session, team_id: str, since: datetime, *, hidden: set[str] | None = None,
                     limit: int = 20) -> list[str]:
    """Leaders who shared a usage narrative since `since`, most recent first."""
    hidden = hidden if hidden is not None else opted_out_ids(session)
    cond = and_(Narrative.team_id == team_id, Narrative.created_at >= since, Narrative.is_leader.is_(True))
    if hidden:
        cond = and_(cond, Narrative.author_id.not_in(hidden))
    rows = session.execute(
        select(Narrative.author_id, func.max(Narrative.created_at).label("last"))
        .where(cond)
        .group_by(Narrative.author_id)
        .order_by(func.max(Narrative.created_at).desc())
        .limit(limit)
    ).all()
    return [author for author, _ in rows]


# -- one person ------------------------------------------------------------------------------------------


def personal_figures(session: Session, team_id: str, user_id: str, *, now: datetime,
                     tz: str) -> PersonalFigures:
    """Everything about the wins this person owns: the weekly roll-ups up to the UTC week that holds
    the start of their week and month (a few hundred rows however many wins), and their wins since
    then from their index range (the week and month are in their time zone, so read exactly)."""
    week, month = week_start(now, tz), month_start(now, tz)
    cutoff = rollups.week_of(min(week, month))
    since = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
    earlier = _rolled_up(session, team_id, user_id, cutoff)
    recent = _personal_since(session, team_id, user_id, start_at=since, now=now, week=week, month=month)
    split = dict(recent.split.minutes)
    for k, v in earlier.split.minutes.items():
        split[k] = split.get(k, 0) + v
    return PersonalFigures(wins=earlier.wins + recent.wins, wins_week=recent.wins_week,
                           wins_month=recent.wins_month, minutes=earlier.minutes + recent.minutes,
                           minutes_week=recent.minutes_week, minutes_month=recent.minutes_month,
                           split=Split({k: v for k, v in split.items() if v}))


def _rolled_up(session: Session, team_id: str, user_id: str, before: date) -> PersonalFigures:
    """A person's owned wins in the weeks before `before`, from the roll-ups."""
    wins, minutes, told = session.execute(
        select(func.sum(ActivityWeek.wins_owned), func.sum(ActivityWeek.minutes_owned),
               func.sum(ActivityWeek.minutes_owned_told))
        .where(ActivityWeek.team_id == team_id, ActivityWeek.user_id == user_id, ActivityWeek.week < before)
    ).one()
    split = {d: int(m) for d, m in session.execute(
        select(ActivityWeekDestination.destination, func.sum(ActivityWeekDestination.minutes_owned))
        .where(ActivityWeekDestination.team_id == team_id, ActivityWeekDestination.user_id == user_id,
               ActivityWeekDestination.week < before)
        .group_by(ActivityWeekDestination.destination)) if m}
    untold = int(minutes or 0) - int(told or 0)
    if untold:
        split[UNTOLD] = untold
    return PersonalFigures(int(wins or 0), 0, 0, int(minutes or 0), 0, 0, Split(split))


def _personal_since(session: Session, team_id: str, user_id: str, *, start_at: datetime, now: datetime,
                    week: datetime, month: datetime) -> PersonalFigures:
    minutes = func.coalesce(Win.minutes_saved, 0)

    def since(start: datetime) -> Any:
        return WinOwner.created_at >= start

    rows = session.execute(
        select(
            Win.reinvested_in,
            func.count(),
            func.sum(minutes),
            func.sum(_case(since(week), 1)),
            func.sum(_case(since(week), minutes)),
            func.sum(_case(since(month), 1)),
            func.sum(_case(since(month), minutes)),
        )
        .select_from(WinOwner)
        .join(Win, Win.id == WinOwner.win_id)
        .where(WinOwner.team_id == team_id, WinOwner.user_id == user_id, WinOwner.created_at >= start_at,
               WinOwner.created_at <= now)
        .group_by(Win.reinvested_in)
    ).all()
    totals = [0] * 6
    split: dict[str, int] = {}
    for reinvested, *numbers in rows:
        for i, n in enumerate(numbers):
            totals[i] += int(n or 0)
        if numbers[1]:
            key = reinvested or UNTOLD
            split[key] = split.get(key, 0) + int(numbers[1])
    wins, mins, wins_week, mins_week, wins_month, mins_month = totals
    return PersonalFigures(wins=wins, wins_week=wins_week, wins_month=wins_month, minutes=mins,
                           minutes_week=mins_week, minutes_month=mins_month, split=Split(split))


def _case(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=0)


def stats_report(session: Session, team_id: str, user_id: str, now: datetime | None = None) -> StatsReport:
    """`/aiwin stats`: the caller's figures and the team's this week and this month."""
    now = now or utcnow()
    tz = viewer_tz(session, team_id, user_id)
    hidden = opted_out_ids(session)
    return StatsReport(
        user_id=user_id,
        tz=tz,
        personal=personal_figures(session, team_id, user_id, now=now, tz=tz),
        week=period_figures(session, team_id, week_start(now, tz), now, hidden=hidden),
        month=period_figures(session, team_id, month_start(now, tz), now, hidden=hidden),
        coverage=coverage(session, team_id, now, hidden=hidden),
        opted_out=user_id in hidden,
    )


# -- team figures from the roll-ups --------------------------------------------------------------------------


def _monday(at: datetime, *, up: bool) -> datetime:
    """The UTC Monday nearest `at` when it is within a day (a local Monday is within 14 h of one), else
    the one before (up=False) or after (up=True)."""
    base = rollups.week_of(at)
    floor = datetime(base.year, base.month, base.day, tzinfo=UTC)
    ceil = floor + timedelta(weeks=1)
    if at - floor <= timedelta(days=1):
        return floor
    if ceil - at <= timedelta(days=1):
        return ceil
    return ceil if up else floor


def periods_figures_rolled(session: Session, team_id: str, periods: list[tuple[datetime, datetime]], *,
                           hidden: set[str] | None = None) -> list[PeriodFigures]:
    """What `periods_figures` returns, read from the weekly roll-ups (a few rows per week) plus the wins
    near the edges: a viewer's week starts within 14 h of a UTC Monday, so each period is its UTC weeks,
    corrected by the wins between the UTC Monday and the local one, and by the wins that name someone who
    opted out (left out entirely, as everywhere in team figures)."""
    hidden = hidden if hidden is not None else opted_out_ids(session)
    bounds = [(_monday(s, up=False), _monday(e, up=True)) for s, e in periods]
    for i in range(1, len(bounds)):  # back-to-back periods share their UTC Monday
        bounds[i] = (bounds[i - 1][1], bounds[i][1])
    lo, hi = bounds[0][0], bounds[-1][1]
    n = len(periods)

    week_period: dict[date, int] = {}
    for i, (a, b) in enumerate(bounds):
        day = a.date()
        while day < b.date():
            week_period[day] = i
            day += timedelta(weeks=1)

    def by_week(week: date) -> int | None:
        return week_period.get(week)

    def by_time(at: datetime) -> int | None:
        return next((i for i, (s, e) in enumerate(periods) if s <= at < e), None)

    wins, minutes = [0] * n, [0] * n
    splits: list[dict[str, int]] = [{} for _ in periods]
    tools: list[dict[str, int]] = [{} for _ in periods]
    lo_d, hi_d = lo.date(), hi.date()
    owners_in_week: dict[int, int] = {}
    for week, w, m, told, o in session.execute(
            select(ActivityWeek.week, func.sum(ActivityWeek.wins_recorded), func.sum(ActivityWeek.minutes_recorded),
                   func.sum(ActivityWeek.minutes_recorded_told),
                   func.sum(case((ActivityWeek.wins_owned > 0, 1), else_=0)))
            .where(ActivityWeek.team_id == team_id, ActivityWeek.week >= lo_d, ActivityWeek.week < hi_d)
            .group_by(ActivityWeek.week)):
        i = by_week(rollups.as_date(week))
        if i is not None:
            owners_in_week[i] = owners_in_week.get(i, 0) + int(o or 0)
            wins[i] += int(w or 0)
            minutes[i] += int(m or 0)
            if int(m or 0) - int(told or 0):
                splits[i][UNTOLD] = splits[i].get(UNTOLD, 0) + int(m or 0) - int(told or 0)
    for week, dest, m in session.execute(
            select(ActivityWeekDestination.week, ActivityWeekDestination.destination,
                   func.sum(ActivityWeekDestination.minutes_recorded))
            .where(ActivityWeekDestination.team_id == team_id, ActivityWeekDestination.week >= lo_d,
                   ActivityWeekDestination.week < hi_d)
            .group_by(ActivityWeekDestination.week, ActivityWeekDestination.destination)):
        i = by_week(rollups.as_date(week))
        if i is not None and m:
            splits[i][dest] = splits[i].get(dest, 0) + int(m)
    for week, tool, c in session.execute(
            select(ActivityWeekTool.week, ActivityWeekTool.tool, ActivityWeekTool.wins)
            .where(ActivityWeekTool.team_id == team_id, ActivityWeekTool.week >= lo_d, ActivityWeekTool.week < hi_d)):
        i = by_week(rollups.as_date(week))
        if i is not None:
            tools[i][tool] = tools[i].get(tool, 0) + int(c)

    # The wins to move: those between a UTC Monday and the local one, and those naming someone hidden.
    edges = [(min(a, s), max(a, s)) for (a, _), (s, _) in zip(bounds, periods, strict=True) if a != s]
    edges += [(min(b, e), max(b, e)) for (_, b), (_, e) in zip(bounds, periods, strict=True) if b != e]
    # Each edge (and the hidden wins) is its own index range: under one OR, SQLite read every win of the
    # whole range to test them (22 ms at 1M wins).
    first, last = min(lo, periods[0][0]), max(hi, periods[-1][1])
    columns = (Win.id, Win.author_id, Win.minutes_saved, Win.reinvested_in, Win.tool, Win.created_at)
    parts = [select(*columns).where(Win.team_id == team_id, Win.created_at >= a, Win.created_at < b)
             for a, b in sorted(set(edges))]
    if hidden:
        parts.append(select(*columns).where(Win.team_id == team_id,
                                            Win.id.in_(_hidden_wins(team_id, hidden, first, last))))
    moved: dict[int, Any] = {}
    if parts:
        for row in session.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
            moved[row.id] = row
    owners: dict[int, list[str]] = {}
    if moved:
        for win_id, user_id in session.execute(select(WinOwner.win_id, WinOwner.user_id)
                                               .where(WinOwner.team_id == team_id, WinOwner.win_id.in_(moved))):
            owners.setdefault(win_id, []).append(user_id)
    owned_delta: dict[tuple[int, str], int] = {}
    for win_id, row in moved.items():
        counted = by_week(rollups.week_of(row.created_at))
        shown = by_time(row.created_at)
        if any(u in hidden for u in owners.get(win_id, ())):
            shown = None
        for i, sign in ((counted, -1), (shown, +1)):
            if i is None:
                continue
            mins = int(row.minutes_saved or 0)
            wins[i] += sign
            minutes[i] += sign * mins
            if mins:
                key = row.reinvested_in or UNTOLD
                splits[i][key] = splits[i].get(key, 0) + sign * mins
            if row.tool:
                tools[i][row.tool] = tools[i].get(row.tool, 0) + sign
            for u in owners.get(win_id, ()):
                owned_delta[(i, u)] = owned_delta.get((i, u), 0) + sign

    # People: those owning a win in the period's weeks, then re-judged one by one for the wins moved above
    # (only the (period, person) pairs they touch are read back).
    if all(b - a in (timedelta(0), timedelta(weeks=1)) for a, b in bounds):  # a week each: a row is a person
        people = owners_in_week
    else:
        week_bucket = case(*((ActivityWeek.week < b.date(), i) for i, (_, b) in enumerate(bounds)), else_=n)
        pairs = (select(week_bucket.label("bucket"), ActivityWeek.user_id)
                 .where(ActivityWeek.team_id == team_id, ActivityWeek.week >= lo_d, ActivityWeek.week < hi_d,
                        ActivityWeek.wins_owned > 0).distinct().subquery())
        people = {int(k): int(v) for k, v in session.execute(
            select(pairs.c.bucket, func.count()).group_by(pairs.c.bucket)).all()}
    changed = {k: d for k, d in owned_delta.items() if d}
    if changed:
        # One read of these people's weeks in the whole range (each a seek in the primary key); an OR of
        # per-period conditions made SQLite scan every person-week of the range instead (166 ms at 1M wins).
        owned: dict[tuple[int, str], int] = {}
        for week, user, c in session.execute(
                select(ActivityWeek.week, ActivityWeek.user_id, ActivityWeek.wins_owned)
                .where(ActivityWeek.team_id == team_id, ActivityWeek.user_id.in_({u for _, u in changed}),
                       ActivityWeek.week >= lo_d, ActivityWeek.week < hi_d)):
            i = by_week(rollups.as_date(week))
            if i is not None and (i, user) in changed:
                owned[(i, user)] = owned.get((i, user), 0) + int(c)
        for key, d in changed.items():
            before = owned.get(key, 0)
            people[key[0]] = people.get(key[0], 0) + (before + d > 0) - (before > 0)
    return [PeriodFigures(s, e, wins[i], people.get(i, 0), minutes[i],
                          Split({k: v for k, v in splits[i].items() if v}),
                          {k: v for k, v in tools[i].items() if v})
            for i, (s, e) in enumerate(periods)]
