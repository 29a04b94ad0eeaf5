"""Adoption as a habit, not a pile of applause: the figures behind `/aiwin adoption`, managers' App
Home and the monthly leadership report. Definitions (also in the README):

* **Member**: a human account (not a bot, not Slackbot, not deactivated, not a guest), from
  users.list copied at most daily. Guests are counted separately.
* **Active** in a period: recorded a win, received a shout-out or posted a narrative in it.
* Periods are whole **UTC ISO weeks** (Monday 00:00 UTC), the same for every viewer: "30 days" is
  the current week and the 3 before it (4 weeks), "90 days" the current week and the 12 before
  it (13 weeks); the previous period is the same number of weeks just before.
* **Coverage**: active members ÷ members. **Habit**: active in at least 3 of the last 4 weeks.
  **Dormant**: active before, but in none of the weeks touching the 60 days before the period's end
  (as things stood then). **New**: first activity ever in the period.
* **Leaders modeling**: managers (admins, the managers list and the managers user group) with a
  narrative in the period ÷ managers.
* **Teach-back pipeline**: teach-backs nominated, accepted and delivered in the period.
* **Reinvestment**: time saved by the wins recorded in the period (each win once, credited to the
  person who recorded it), the share with a stated destination, and the split by destination.
* Opted-out people are counted in members and totals and never named; only positive things name
  anyone (new adopters, teach-backs delivered, leaders' narratives), and nothing ranks people.

Everything reads the roll-ups (bot/services/rollups.py), `members` and the small teach-back table,
so the cost grows with members and weeks shown, not with the number of wins."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, case, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import (
    ActivityPerson,
    ActivityWeek,
    ActivityWeekDestination,
    AdoptionTeam,
    AdoptionTeamMember,
    Manager,
    Member,
    OptOut,
    TeachBack,
    Workspace,
    utcnow,
)
from bot.services.rollups import RECENT_WEEKS, as_date, week_of
from bot.services.workspaces import ensure_workspace

WEEKS_30, WEEKS_90 = 4, 13
HABIT_WEEKS, HABIT_MIN = 4, 3
DORMANT_DAYS = 60
TREND_WEEKS = 12
NAMED = 10  # at most this many people named in one list
TEAM_SYNC_EVERY = timedelta(days=1)
SLACKBOT = "USLACKBOT"
_SUBTEAM_RE = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|@?([^>]*))?>")


def human_member(team_id: str, *, guests: bool = False) -> Any:
    """The SQL filter for members (or, with guests=True, guests). One small function until
    people.is_human (owned by the abuse work) exists; switch to it then."""
    return and_(Member.team_id == team_id, Member.is_bot.is_(False), Member.deleted.is_(False),
                Member.user_id != SLACKBOT, Member.is_guest.is_(guests))


# -- shapes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    count: int
    of: int

    @property
    def share(self) -> float | None:
        return self.count / self.of if self.of else None


@dataclass(frozen=True)
class Change:
    now: Share
    before: Share

    @property
    def points(self) -> float | None:
        """The change in percentage points."""
        if self.now.share is None or self.before.share is None:
            return None
        return round((self.now.share - self.before.share) * 100, 1)


@dataclass(frozen=True)
class Pipeline:
    nominated: int
    accepted: int
    delivered: int
    delivered_by: tuple[str, ...]  # named (opted-out people left out)


@dataclass(frozen=True)
class Reinvestment:
    minutes: int
    minutes_told: int
    split: dict[str, int] = field(default_factory=dict)  # destination → minutes, largest first

    @property
    def share_told(self) -> float | None:
        return self.minutes_told / self.minutes if self.minutes else None


@dataclass(frozen=True)
class TrendWeek:
    week: date
    active: int
    members: int

    @property
    def share(self) -> float | None:
        return self.active / self.members if self.members else None


@dataclass(frozen=True)
class AdoptionFigures:
    team_id: str
    group_id: str | None  # None: the whole workspace
    group_name: str | None
    first_week: date  # the period: whole UTC weeks first_week … last_week
    last_week: date
    as_of: datetime
    members_known: bool  # False until users.list has been copied once
    members: int
    guests: int
    guests_active: int
    opted_out: int  # members who opted out: counted, never named
    coverage30: Change
    coverage90: Change
    habit: Share
    dormant: Share
    new: int
    new_named: tuple[str, ...]
    leaders: Share
    leaders_named: tuple[str, ...]
    pipeline: Pipeline
    reinvestment: Reinvestment
    trend: tuple[TrendWeek, ...]  # oldest first, ending with last_week


# -- periods -----------------------------------------------------------------------------------------------


def weeks_ending(last_week: date, count: int) -> tuple[date, date]:
    return last_week - timedelta(weeks=count - 1), last_week


def month_weeks(month: str) -> tuple[date, date]:
    """The UTC ISO weeks of a month "2026-11": those whose Thursday falls in it (ISO's own rule)."""
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    start = thursday - timedelta(days=3)
    last_thursday = nxt - timedelta(days=1)
    last_thursday -= timedelta(days=(last_thursday.weekday() - 3) % 7)
    return start, last_thursday - timedelta(days=3)


def _at(week: date) -> datetime:
    return datetime(week.year, week.month, week.day, tzinfo=UTC)


# -- figures -----------------------------------------------------------------------------------------------


def adoption_figures(session: Session, team_id: str, *, manager_ids: Iterable[str], group_id: str | None = None,
                     now: datetime | None = None, period: tuple[date, date] | None = None) -> AdoptionFigures:
    """The figures for the workspace (or one team) over `period` (default: the 4 weeks ending with
    the current one). `manager_ids` are the people who are managers through Slack (admins and the
    managers user group); the managers list in the database is added here."""
    now = now or utcnow()
    first, last = period or weeks_ending(week_of(now), WEEKS_30)
    n_weeks = (last - first).days // 7 + 1
    as_of = min(now, _at(last) + timedelta(weeks=1))
    prev_first = first - timedelta(weeks=n_weeks)
    first90 = last - timedelta(weeks=WEEKS_90 - 1)
    prev_first90 = first90 - timedelta(weeks=WEEKS_90)
    habit_first = last - timedelta(weeks=HABIT_WEEKS - 1)

    synced = session.scalar(select(Workspace.members_synced_at).where(Workspace.team_id == team_id))
    in_group = (select(AdoptionTeamMember.user_id)
                .where(AdoptionTeamMember.team_id == team_id, AdoptionTeamMember.group_id == group_id)
                if group_id else None)

    def population(guests: bool = False) -> Any:
        q = select(Member.user_id).where(human_member(team_id, guests=guests))
        return q.where(Member.user_id.in_(in_group)) if in_group is not None else q

    def counted(column: Any, guests: bool = False) -> Any:
        """`column` names one of the population: an EXISTS probe per row read, so a query reads its own
        (few) rows and probes the members, instead of listing all the members to probe against."""
        cond = exists().where(Member.user_id == column, human_member(team_id, guests=guests))
        return and_(cond, column.in_(in_group)) if in_group is not None else cond

    pop = population()
    members = session.scalar(select(func.count()).select_from(pop.subquery())) or 0
    guests_pop = population(guests=True)
    guests = session.scalar(select(func.count()).select_from(guests_pop.subquery())) or 0
    hidden_q = select(OptOut.user_id).where(OptOut.team_id == team_id, counted(OptOut.user_id))
    hidden = set(session.scalars(hidden_q))

    # Every figure about people comes from one row per person active by the period's end: their weeks
    # since `since` as a mask aligned on the period's last week (bit i ⇔ active in week last − i).
    dormant_before = week_of(as_of - timedelta(days=DORMANT_DAYS))
    since = min(prev_first, prev_first90, habit_first, last - timedelta(weeks=TREND_WEEKS - 1), dormant_before)
    people = _people(session, team_id, counted, since, last)

    masks = [m for _, m in people.values()]

    def count(lo: date, hi: date, masks: list[int] = masks) -> int:
        """People active in some week lo … hi (`map` keeps the loop in C: 17 passes over 10,000 people)."""
        return len(masks) - list(map(_bits(last, lo, hi).__and__, masks)).count(0)

    habit_bits = _bits(last, habit_first, last)
    habit = sum(1 for m in masks if (m & habit_bits).bit_count() >= HABIT_MIN)
    new_ids = sorted(u for u, (f, _) in people.items() if first <= f)
    ever = len(people)
    dormant = ever - count(dormant_before, last)
    guests_active = count(first, last, [m for _, m in _people(session, team_id, lambda c: c.in_(guests_pop), first,
                                                                last).values()])

    listed = select(Manager.user_id).where(Manager.team_id == team_id)
    managers = set(session.scalars(pop.where(or_(Member.is_admin.is_(True), Member.is_owner.is_(True),
                                                 Member.user_id.in_(listed), Member.user_id.in_(set(manager_ids))))))
    modeling = sorted(session.scalars(
        select(ActivityWeek.user_id).distinct()
        .where(ActivityWeek.team_id == team_id, ActivityWeek.week >= first, ActivityWeek.week <= last,
               ActivityWeek.narratives > 0, ActivityWeek.user_id.in_(managers)))) if managers else []

    pipeline = _pipeline(session, team_id, _at(first), min(now, _at(last) + timedelta(weeks=1)), in_group, hidden)
    reinvestment = _reinvestment(session, team_id, first, last, in_group)
    trend = tuple(TrendWeek(w, count(w, w), members)
                  for w in (last - timedelta(weeks=i) for i in range(TREND_WEEKS - 1, -1, -1)))

    group_name = None
    if group_id:
        group_name = session.scalar(select(AdoptionTeam.name).where(AdoptionTeam.team_id == team_id,
                                                                    AdoptionTeam.group_id == group_id))
    return AdoptionFigures(
        team_id=team_id, group_id=group_id, group_name=group_name, first_week=first, last_week=last, as_of=as_of,
        members_known=synced is not None, members=members, guests=guests, guests_active=guests_active,
        opted_out=len(hidden),
        coverage30=Change(Share(count(first, last), members),
                          Share(count(prev_first, first - timedelta(weeks=1)), members)),
        coverage90=Change(Share(count(first90, last), members),
                          Share(count(prev_first90, first90 - timedelta(weeks=1)), members)),
        habit=Share(habit, members),
        dormant=Share(dormant, ever),
        new=len(new_ids),
        new_named=tuple(u for u in new_ids if u not in hidden)[:NAMED],
        leaders=Share(len(modeling), len(managers)),
        leaders_named=tuple(u for u in modeling if u not in hidden)[:NAMED],
        pipeline=pipeline,
        reinvestment=reinvestment,
        trend=trend,
    )


def _bits(last: date, lo: date, hi: date) -> int:
    """The mask bits of the weeks (Mondays) lo … hi, for masks aligned on `last` (bit i ⇔ week last − i)."""
    top, bottom = (last - lo).days // 7, max((last - hi).days // 7, 0)
    return ((1 << (top + 1)) - 1) & ~((1 << bottom) - 1) if top >= bottom else 0


def _people(session: Session, team_id: str, counted: Callable[[Any], Any], since: date,
            last: date) -> dict[str, tuple[date, int]]:
    """Everyone `counted` accepts who was active by `last`: user → (first week, their weeks since … last
    as a mask aligned on `last`, bit i ⇔ active in week last − i).

    One row per person (activity_people); a stored mask covers 62 weeks back from the person's own
    last week, so it reaches `since` unless they were active long after `last` (a period far in the
    past). Those people's weeks are read from the weekly roll-ups instead."""
    span = (last - since).days // 7 + 1
    in_span = (1 << span) - 1
    out: dict[str, tuple[date, int]] = {}
    short: dict[str, date] = {}
    for u, f, lw, m in session.execute(  # DATE columns come back as dates on both databases
            select(ActivityPerson.user_id, ActivityPerson.first_week, ActivityPerson.last_week, ActivityPerson.recent)
            .where(ActivityPerson.team_id == team_id, ActivityPerson.first_week <= last,
                   counted(ActivityPerson.user_id))):
        shift = (last - lw).days // 7
        if shift >= 0:
            out[u] = (f, (m << shift) & in_span)
        elif RECENT_WEEKS + shift >= span:
            out[u] = (f, (m >> -shift) & in_span)
        else:
            short[u] = f
    if short:
        out.update((u, (f, 0)) for u, f in short.items())
        for u, w in session.execute(
                select(ActivityWeek.user_id, ActivityWeek.week)
                .where(ActivityWeek.team_id == team_id, ActivityWeek.week >= since, ActivityWeek.week <= last,
                       counted(ActivityWeek.user_id))):
            if u in short:
                f, m = out[u]
                out[u] = (f, m | 1 << (last - as_date(w)).days // 7)
    return out


def _pipeline(session: Session, team_id: str, start: datetime, end: datetime, in_group: Any,
              hidden: set[str]) -> Pipeline:
    def between(col: Any) -> Any:
        return and_(col >= start, col < end)

    cond = [TeachBack.team_id == team_id]
    if in_group is not None:
        cond.append(TeachBack.owner_id.in_(in_group))
    nominated, accepted, delivered = session.execute(
        select(func.sum(case((between(TeachBack.created_at), 1), else_=0)),
               func.sum(case((between(TeachBack.accepted_at), 1), else_=0)),
               func.sum(case((between(TeachBack.done_at), 1), else_=0)))
        .where(*cond)).one()
    by = session.scalars(select(TeachBack.owner_id).where(*cond, between(TeachBack.done_at))
                         .group_by(TeachBack.owner_id).order_by(func.min(TeachBack.done_at))).all()
    return Pipeline(int(nominated or 0), int(accepted or 0), int(delivered or 0),
                    tuple(u for u in by if u not in hidden)[:NAMED])


def _reinvestment(session: Session, team_id: str, first: date, last: date, in_group: Any) -> Reinvestment:
    cond = [ActivityWeek.team_id == team_id, ActivityWeek.week >= first, ActivityWeek.week <= last]
    dcond = [ActivityWeekDestination.team_id == team_id, ActivityWeekDestination.week >= first,
             ActivityWeekDestination.week <= last]
    if in_group is not None:
        cond.append(ActivityWeek.user_id.in_(in_group))
        dcond.append(ActivityWeekDestination.user_id.in_(in_group))
    minutes, told = session.execute(select(func.sum(ActivityWeek.minutes_recorded),
                                           func.sum(ActivityWeek.minutes_recorded_told)).where(*cond)).one()
    # Grouped by week first, in the covering index's order: grouped by destination alone, the database
    # sorted every person's row of the period first.
    split: dict[str, int] = {}
    for d, m in session.execute(select(ActivityWeekDestination.destination,
                                       func.sum(ActivityWeekDestination.minutes_recorded))
                                .where(*dcond)
                                .group_by(ActivityWeekDestination.week, ActivityWeekDestination.destination)):
        split[d] = split.get(d, 0) + int(m or 0)
    ordered = dict(sorted(((d, m) for d, m in split.items() if m), key=lambda kv: (-kv[1], kv[0])))
    return Reinvestment(int(minutes or 0), int(told or 0), ordered)


# -- managers ----------------------------------------------------------------------------------------------


def may_see(session: Session, team_id: str, limit: int = 5) -> tuple[str, ...]:
    """Some of the people who may see adoption figures (admins first, then listed managers), to name
    in a refusal so the asker knows whom to ask."""
    admins = session.scalars(select(Member.user_id).where(
        human_member(team_id), (Member.is_admin.is_(True)) | (Member.is_owner.is_(True)))
        .order_by(Member.user_id).limit(limit)).all()
    listed = session.scalars(select(Manager.user_id).where(Manager.team_id == team_id)
                             .order_by(Manager.created_at).limit(limit)).all()
    return tuple(dict.fromkeys([*admins, *listed]))[:limit]


# -- teams -------------------------------------------------------------------------------------------------


class GroupDirectory(Protocol):
    def usergroup_members(self, group_id: str) -> list[str] | None: ...


def parse_group(text: str) -> tuple[str, str | None] | None:
    """`<!subteam^S123|@design>` → ("S123", "design"); None when no user group is mentioned."""
    m = _SUBTEAM_RE.search(text or "")
    return (m.group(1), (m.group(2) or None)) if m else None


@dataclass(frozen=True)
class TeamView:
    group_id: str
    name: str | None
    members: int


def list_teams(session: Session, team_id: str) -> tuple[TeamView, ...]:
    rows = session.execute(
        select(AdoptionTeam.group_id, AdoptionTeam.name, func.count(AdoptionTeamMember.user_id))
        .select_from(AdoptionTeam)
        .outerjoin(AdoptionTeamMember, and_(AdoptionTeamMember.team_id == AdoptionTeam.team_id,
                                            AdoptionTeamMember.group_id == AdoptionTeam.group_id))
        .where(AdoptionTeam.team_id == team_id)
        .group_by(AdoptionTeam.group_id, AdoptionTeam.name)
        .order_by(AdoptionTeam.name, AdoptionTeam.group_id)).all()
    return tuple(TeamView(g, n, c) for g, n, c in rows)


def is_team(session: Session, team_id: str, group_id: str) -> bool:
    return session.get(AdoptionTeam, (team_id, group_id)) is not None


def add_team(session: Session, team_id: str, enterprise_id: str | None, group_id: str, name: str | None,
             user_ids: Iterable[str], *, added_by: str, now: datetime | None = None) -> bool:
    """Mark a user group as a team (or refresh it). True when it was not a team before."""
    ensure_workspace(session, team_id, enterprise_id)
    now = now or utcnow()
    row = session.get(AdoptionTeam, (team_id, group_id))
    created = row is None
    if row is None:
        row = AdoptionTeam(team_id=team_id, group_id=group_id, added_by=added_by, created_at=now)
        session.add(row)
    row.name = name or row.name
    session.flush()
    store_team_members(session, team_id, group_id, user_ids, now=now)
    return created


def store_team_members(session: Session, team_id: str, group_id: str, user_ids: Iterable[str], *,
                       now: datetime | None = None) -> None:
    session.execute(delete(AdoptionTeamMember).where(AdoptionTeamMember.team_id == team_id,
                                                     AdoptionTeamMember.group_id == group_id)
                    .execution_options(synchronize_session=False))
    rows = [{"team_id": team_id, "group_id": group_id, "user_id": u} for u in dict.fromkeys(user_ids) if u]
    if rows:
        session.execute(AdoptionTeamMember.__table__.insert(), rows)
    session.execute(AdoptionTeam.__table__.update()
                    .where(AdoptionTeam.team_id == team_id, AdoptionTeam.group_id == group_id)
                    .values(members_synced_at=now or utcnow()))


def remove_team(session: Session, team_id: str, group_id: str) -> bool:
    session.execute(delete(AdoptionTeamMember).where(AdoptionTeamMember.team_id == team_id,
                                                     AdoptionTeamMember.group_id == group_id)
                    .execution_options(synchronize_session=False))
    gone = session.execute(delete(AdoptionTeam).where(AdoptionTeam.team_id == team_id,
                                                      AdoptionTeam.group_id == group_id)
                           .execution_options(synchronize_session=False)).rowcount
    return bool(gone)


def refresh_team(db: Database, directory: GroupDirectory, team_id: str, group_id: str, *,
                 now: datetime | None = None) -> bool:
    """Copy the group's members from Slack when the last copy is a day old. True if it ran."""
    now = now or utcnow()
    with db.read(team_id) as session:
        row = session.get(AdoptionTeam, (team_id, group_id))
        if row is None or (row.members_synced_at and now - row.members_synced_at < TEAM_SYNC_EVERY):
            return False
    users = directory.usergroup_members(group_id)
    if users is None:
        return False
    with db.session(team_id) as session:
        if session.get(AdoptionTeam, (team_id, group_id)) is not None:
            store_team_members(session, team_id, group_id, users, now=now)
    return True
