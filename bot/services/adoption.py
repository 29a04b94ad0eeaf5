"""Adoption as a habit, not a pile of applause: the figures behind `/aiwin adoption`, managers' App
Home and the monthly leadership report. Members, active, coverage, weeks and months are defined once in
bot/services/figures.py (and the README); the figures only adoption shows:

* **Habit**: active in at least 3 of the last 4 weeks. **Dormant**: active before, but in none of the
  weeks touching the 60 days before the period's end (as things stood then). **New**: first activity
  ever in the period.
* **Leaders modeling**: managers (admins, the managers list and the managers user group) with a
  narrative in the period ÷ managers.
* **Teach-back pipeline**: teach-backs nominated, accepted and delivered in the period.
* **Reinvestment**: the period's hours saved, the share with a stated destination, and the split.
* Opted-out people are counted and never named; only positive things name anyone (new adopters,
  teach-backs delivered, leaders' narratives), and nothing ranks people.

Everything reads the roll-ups, `members` and the small teach-back table, so the cost grows with
members and weeks shown, not with the number of wins."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.models import AdoptionTeam, AdoptionTeamMember, Manager, Member, OptOut, TeachBack, utcnow
from bot.services import figures
from bot.services.figures import LONG_WEEKS, SHORT_WEEKS, Change, Population, Share, Weeks, week_of
from bot.services.workspaces import ensure_workspace

HABIT_WEEKS, HABIT_MIN = 4, 3
DORMANT_DAYS = 60
TREND_WEEKS = 12
NAMED = 10  # at most this many people named in one list
TEAM_SYNC_EVERY = timedelta(days=1)
_SUBTEAM_RE = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|@?([^>]*))?>")


# -- shapes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    nominated: int
    accepted: int
    delivered: int
    delivered_by: tuple[str, ...]  # named (opted-out people left out)


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
    period: Weeks
    as_of: datetime
    members_known: bool  # False until users.list has been copied once
    members: int
    guests: int
    guests_active: int
    opted_out: int  # members who opted out: counted, never named
    coverage: Change  # over the period (the last 4 weeks unless a month was asked for)
    coverage_long: Change  # the last 13 weeks to the period's end
    habit: Share
    dormant: Share
    new: int
    new_named: tuple[str, ...]
    leaders: Share
    leaders_named: tuple[str, ...]
    pipeline: Pipeline
    spread: figures.Spread  # "I tried it too": tries, practices spread, teach-back reach
    reinvestment: figures.Totals
    trend: tuple[TrendWeek, ...]  # oldest first, ending with the period's last week

    @property
    def is_current(self) -> bool:
        """The period ends with the current week (the default), not in the past (a month's report)."""
        return week_of(self.as_of) == self.period.last


# -- figures -----------------------------------------------------------------------------------------------


def adoption_figures(session: Session, team_id: str, *, manager_ids: Iterable[str], group_id: str | None = None,
                     now: datetime | None = None, period: Weeks | None = None) -> AdoptionFigures:
    """The figures for the workspace (or one team) over `period` (default: the last 4 weeks).
    `manager_ids` are the people who are managers through Slack (the managers user group)."""
    now = now or utcnow()
    period = period or figures.last_weeks(now, SHORT_WEEKS)
    last = period.last
    as_of = min(now, period.end)
    long = Weeks(last - timedelta(weeks=LONG_WEEKS - 1), last)
    habit_weeks = Weeks(last - timedelta(weeks=HABIT_WEEKS - 1), last)
    trend_weeks = [last - timedelta(weeks=i) for i in range(TREND_WEEKS - 1, -1, -1)]
    dormant_before = week_of(as_of - timedelta(days=DORMANT_DAYS))

    who = Population(team_id, group_id)
    known = figures.members_known(session, team_id)
    members = who.size(session) if known else 0  # no share of a member list not yet copied whole
    guests_who = Population(team_id, group_id, guests=True)
    hidden = set(session.scalars(select(OptOut.user_id).where(OptOut.team_id == team_id, who.has(OptOut.user_id))))

    since = min(period.before().first, long.before().first, habit_weeks.first, trend_weeks[0], dormant_before)
    seen = figures.activity(session, who, since, last)
    habit = sum(1 for u in seen.people if seen.weeks_active(u, habit_weeks) >= HABIT_MIN)
    new_ids = seen.new_in(Weeks(period.first, last))
    ever = len(seen.people)
    dormant = ever - seen.count(Weeks(dormant_before, last))
    guests_active = figures.activity(session, guests_who, period.first, last).count(period)

    managers = figures.managers(session, team_id, manager_ids, group_id=group_id)
    modeling = figures.leaders_modeling(session, team_id, period, managers)

    group_name = None
    if group_id:
        group_name = session.scalar(select(AdoptionTeam.name).where(AdoptionTeam.team_id == team_id,
                                                                    AdoptionTeam.group_id == group_id))
    return AdoptionFigures(
        team_id=team_id, group_id=group_id, group_name=group_name, period=period, as_of=as_of,
        members_known=known, members=members,
        guests=guests_who.size(session), guests_active=guests_active, opted_out=len(hidden),
        coverage=Change(Share(seen.count(period), members), Share(seen.count(period.before()), members)),
        coverage_long=Change(Share(seen.count(long), members), Share(seen.count(long.before()), members)),
        habit=Share(habit, members),
        dormant=Share(dormant, ever),
        new=len(new_ids),
        new_named=tuple(u for u in new_ids if u not in hidden)[:NAMED],
        leaders=Share(len(modeling), len(managers)),
        leaders_named=tuple(u for u in modeling if u not in hidden)[:NAMED],
        pipeline=_pipeline(session, team_id, period.start, as_of, group_id, hidden),
        spread=figures.spread(session, team_id, period, group_id=group_id),
        reinvestment=figures.totals(session, team_id, [period], group_id=group_id)[0],
        trend=tuple(TrendWeek(w, seen.count(Weeks(w, w)), members) for w in trend_weeks),
    )


def _pipeline(session: Session, team_id: str, start: datetime, end: datetime, group_id: str | None,
              hidden: set[str]) -> Pipeline:
    def between(col: Any) -> Any:
        return and_(col >= start, col < end)

    cond = [TeachBack.team_id == team_id]
    if group_id:
        cond.append(Population(team_id, group_id).has(TeachBack.owner_id))
    nominated, accepted, delivered = session.execute(
        select(func.sum(case((between(TeachBack.created_at), 1), else_=0)),
               func.sum(case((between(TeachBack.accepted_at), 1), else_=0)),
               func.sum(case((between(TeachBack.done_at), 1), else_=0)))
        .where(*cond)).one()
    by = session.scalars(select(TeachBack.owner_id).where(*cond, between(TeachBack.done_at))
                         .group_by(TeachBack.owner_id).order_by(func.min(TeachBack.done_at))).all()
    return Pipeline(int(nominated or 0), int(accepted or 0), int(delivered or 0),
                    tuple(u for u in by if u not in hidden)[:NAMED])


# -- managers ----------------------------------------------------------------------------------------------


def may_see(session: Session, team_id: str, limit: int = 5) -> tuple[str, ...]:
    """Some of the people who may see adoption figures (admins first, then listed managers), to name
    in a refusal so the asker knows whom to ask."""
    admins = session.scalars(select(Member.user_id).where(
        figures.member_filter(team_id), (Member.is_admin.is_(True)) | (Member.is_owner.is_(True)))
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
