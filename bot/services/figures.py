"""Every figure a person reads, defined once. `/aiwin stats`, App Home, the digest, `/aiwin adoption`,
the monthly report and the export's totals all take them from here, so the same figure for the same
period is the same number wherever it is shown. The README's "Figures" section says the same in words.

Periods
* **week**: an ISO week in UTC, Monday 00:00 UTC to the next Monday: the same for every viewer and
  channel, so a figure never shifts with time zones or daylight saving. "This week" is the current week
  so far.
* **month**: the ISO weeks whose Thursday falls in the calendar month (ISO 8601's rule; 4 or 5 whole
  weeks). "This month" is the month of the current week, so far.
* **last 4 weeks**, **last 13 weeks**: the current week and the 3 (12) before it.

People
* **member**: a human account (not a bot, not Slackbot, not deactivated) that is not a guest, from
  users.list copied at most daily.
* **active** in a period: recorded a win, received a shout-out, or posted a narrative in it.
* **people** of a period: the members active in it. **Coverage**: people ÷ members.
* People who opted out are counted in every figure and never named.

Time
* **wins**: the wins recorded in the period, each once (guests' wins too).
* **hours saved**: the time those wins saved, each win once. **Your hours saved**: the wins you own
  (your own and shout-outs to you), each with its full time.
* **where the time went**: hours saved by stated destination; the rest is "not said".
* **top tools**: the TOP_TOOLS tools named on the most wins of the period (names compared without case).

Practices spreading ("I tried it too", bot/services/tries.py)
* **tries**: "I tried it too" presses in the period (once per person and thing; never an owner's own).
* **practices spread**: the wins tried by at least one other person in the period.
* **teach-back reach**: the period's tries of a win made within TEACHBACK_REACH_DAYS after a teach-back on
  that win was delivered.
* **most-tried win** (of a week): the win with the most tries in it, of those the viewer may see.

Everything is read from the weekly roll-ups (bot/services/rollups.py) and one row per active person
(`activity_people`, a mask of their recent weeks), so a figure costs the same at a hundred wins and at a
million."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.models import (
    ActivityPerson,
    ActivityWeek,
    ActivityWeekDestination,
    ActivityWeekTool,
    AdoptionTeamMember,
    Manager,
    Member,
    TeachBack,
    Tried,
    Win,
    Workspace,
)
from bot.models.teachback import TB_DONE

# Periods are defined in bot/services/periods.py and taken from here, so every surface has one module of figures.
from bot.services.periods import (  # noqa: F401 - re-exported
    Weeks,
    at_week,
    last_weeks,
    month_of,
    month_weeks,
    this_month,
    week_of,
)

TOP_TOOLS = 3
TEACHBACK_REACH_DAYS = 30
NOT_SAID = "not_said"  # the hours saved whose destination nobody gave
SHORT_WEEKS, LONG_WEEKS = 4, 13  # "last 4 weeks" and "last 13 weeks"
RECENT_WEEKS = 62  # activity_people.recent holds each person's last 62 active weeks
SLACKBOT = "USLACKBOT"


# -- people ----------------------------------------------------------------------------------------------------


def member_filter(team_id: str, *, guests: bool = False) -> Any:
    """SQL: a member of the workspace (or, with guests=True, a guest)."""
    return and_(Member.team_id == team_id, Member.is_bot.is_(False), Member.deleted.is_(False),
                Member.user_id != SLACKBOT, Member.is_guest.is_(guests))


def members_known(session: Session, team_id: str) -> bool:
    """False until users.list has been copied once: before that the members are the few met one by one."""
    return session.scalar(select(Workspace.members_synced_at).where(Workspace.team_id == team_id)) is not None


@dataclass(frozen=True)
class Population:
    """Whom a people figure counts: the workspace's members (or guests), optionally one team's."""

    team_id: str
    group_id: str | None = None
    guests: bool = False

    def _in_group(self) -> Any:
        return (select(AdoptionTeamMember.user_id)
                .where(AdoptionTeamMember.team_id == self.team_id, AdoptionTeamMember.group_id == self.group_id))

    def query(self) -> Any:
        """SELECT user_id of everyone counted."""
        q = select(Member.user_id).where(member_filter(self.team_id, guests=self.guests))
        return q.where(Member.user_id.in_(self._in_group())) if self.group_id else q

    def has(self, column: Any) -> Any:
        """SQL: `column` names someone counted. An EXISTS probe per row read, so a query reads its own
        (few) rows and probes the members instead of listing every member to compare against."""
        cond = exists().where(Member.user_id == column, member_filter(self.team_id, guests=self.guests))
        return and_(cond, column.in_(self._in_group())) if self.group_id else cond

    def size(self, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(self.query().subquery())) or 0


def mask_bits(last: date, lo: date, hi: date) -> int:
    """The bits of the weeks lo … hi in a mask aligned on `last` (bit i ⇔ week last − i)."""
    top, bottom = (last - lo).days // 7, max((last - hi).days // 7, 0)
    return ((1 << (top + 1)) - 1) & ~((1 << bottom) - 1) if top >= bottom else 0


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Activity:
    """Who was active by `last`: user → (first active week, their weeks since … last as a mask
    aligned on `last`)."""

    last: date
    people: dict[str, tuple[date, int]]

    def count(self, period: Weeks) -> int:
        """People active in some week of `period`."""
        bits = mask_bits(self.last, period.first, period.last)
        masks = [m for _, m in self.people.values()]
        return len(masks) - list(map(bits.__and__, masks)).count(0)  # the loop stays in C

    def weeks_active(self, user_id: str, period: Weeks) -> int:
        _, mask = self.people.get(user_id, (None, 0))
        return (mask & mask_bits(self.last, period.first, period.last)).bit_count()

    def new_in(self, period: Weeks) -> list[str]:
        """People whose first activity ever is in `period`."""
        return sorted(u for u, (f, _) in self.people.items() if period.first <= f <= period.last)


def activity(session: Session, who: Population, since: date, last: date) -> Activity:
    """Everyone counted by `who` who was active by `last`, with their weeks since `since`.

    One row per person (activity_people); a stored mask covers 62 weeks back from the person's own last
    week, so it reaches `since` unless they were active long after `last` (a period far in the past).
    Those people's weeks are read from the weekly roll-ups instead."""
    span = (last - since).days // 7 + 1
    in_span = (1 << span) - 1
    out: dict[str, tuple[date, int]] = {}
    short: dict[str, date] = {}
    for u, f, lw, m in session.execute(  # DATE columns come back as dates on both databases
            select(ActivityPerson.user_id, ActivityPerson.first_week, ActivityPerson.last_week, ActivityPerson.recent)
            .where(ActivityPerson.team_id == who.team_id, ActivityPerson.first_week <= last,
                   who.has(ActivityPerson.user_id))):
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
                .where(ActivityWeek.team_id == who.team_id, ActivityWeek.week >= since, ActivityWeek.week <= last,
                       who.has(ActivityWeek.user_id))):
            if u in short:
                f, m = out[u]
                out[u] = (f, m | 1 << (last - _as_date(w)).days // 7)
    return Activity(last, out)


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


def coverage(session: Session, team_id: str, period: Weeks, *, group_id: str | None = None) -> Change:
    """Coverage over `period` against the same number of weeks just before; unknown (0 of 0) until the
    member list has been copied whole once."""
    if not members_known(session, team_id):
        return Change(Share(0, 0), Share(0, 0))
    who = Population(team_id, group_id)
    members = who.size(session)
    before = period.before()
    seen = activity(session, who, before.first, period.last)
    return Change(Share(seen.count(period), members), Share(seen.count(before), members))


# -- an Enterprise Grid org: its workspaces together ----------------------------------------------------------------
# The same definitions across the org's workspaces: a **member of the org** is a member (as above) of at
# least one of its workspaces; **active** means active in any of them; each person counted once by user id
# (Slack's ids are the same person in every workspace of an org). Wins and hours saved add up, each win
# belonging to one workspace. A workspace whose member list was never copied is left out (and said so).


@dataclass(frozen=True)
class OrgPart:
    """One workspace's share of the org's figures, read in its own session."""

    team_id: str
    members: frozenset[str]
    seen: Activity  # its members' activity, the period and the weeks before it
    wins: int
    minutes: int


def org_part(session: Session, team_id: str, period: Weeks) -> OrgPart | None:
    """None until the workspace's member list has been copied once."""
    if not members_known(session, team_id):
        return None
    who = Population(team_id)
    [t] = totals(session, team_id, [period])
    return OrgPart(team_id, frozenset(session.scalars(who.query())),
                   activity(session, who, period.before().first, period.last), t.wins, t.minutes)


@dataclass(frozen=True)
class OrgFigures:
    period: Weeks
    workspaces: tuple[str, ...]  # counted
    left_out: tuple[str, ...]  # member list not copied yet
    coverage: Change
    wins: int
    minutes: int


def org_figures(period: Weeks, parts: Sequence[OrgPart | None], team_ids: Sequence[str]) -> OrgFigures:
    """Coverage across the org's workspaces, each person once; wins and hours saved summed."""
    counted = [p for p in parts if p is not None]
    members = frozenset().union(*(p.members for p in counted))
    people: dict[str, tuple[date, int]] = {}
    for p in counted:
        for user, (first, mask) in p.seen.people.items():
            was = people.get(user)
            people[user] = (min(first, was[0]), mask | was[1]) if was else (first, mask)
    seen = Activity(period.last, people)
    names = {p.team_id for p in counted}
    return OrgFigures(period, tuple(sorted(names)), tuple(sorted(set(team_ids) - names)),
                      Change(Share(seen.count(period), len(members)), Share(seen.count(period.before()), len(members))),
                      sum(p.wins for p in counted), sum(p.minutes for p in counted))


# -- time saved --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Minutes saved by destination (keys of REINVEST_CATEGORIES) plus NOT_SAID."""

    minutes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.minutes.values())

    @property
    def told(self) -> dict[str, int]:
        """The destinations people named, largest first."""
        named = {k: v for k, v in self.minutes.items() if k != NOT_SAID and v}
        return dict(sorted(named.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def minutes_told(self) -> int:
        return self.total - self.minutes.get(NOT_SAID, 0)


def top_tools(tools: dict[str, int], limit: int = TOP_TOOLS) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(tools.items(), key=lambda kv: (-kv[1], kv[0].lower()))[:limit])


@dataclass(frozen=True)
class Totals:
    """A period's team figures."""

    period: Weeks
    wins: int
    people: int | None  # members active in the period; None until the member list has been copied once
    minutes: int
    split: Split
    tools: dict[str, int]  # wins per tool

    @property
    def top_tools(self) -> tuple[tuple[str, int], ...]:
        return top_tools(self.tools)

    @property
    def share_told(self) -> float | None:
        """The share of the hours saved with a stated destination."""
        return self.split.minutes_told / self.minutes if self.minutes else None


def _fold_tools(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Wins per tool with names compared without case, each shown as most wins spell it (on a tie, the
    spelling that sorts first: "ChatGPT" before "chatgpt")."""
    counts: dict[str, dict[str, int]] = {}
    for tool, n in rows:
        name = (tool or "").strip()
        if name and n:
            spellings = counts.setdefault(name.lower(), {})
            spellings[name] = spellings.get(name, 0) + int(n)
    return {min(s.items(), key=lambda kv: (-kv[1], kv[0]))[0]: sum(s.values()) for s in counts.values()}


def totals(session: Session, team_id: str, periods: Sequence[Weeks], *,
           group_id: str | None = None) -> list[Totals]:
    """The team figures of each period, from the weekly roll-ups of the weeks they span."""
    lo, hi = min(p.first for p in periods), max(p.last for p in periods)
    week = ActivityWeek.week
    cond = [ActivityWeek.team_id == team_id, week >= lo, week <= hi]
    dcond = [ActivityWeekDestination.team_id == team_id, ActivityWeekDestination.week >= lo,
             ActivityWeekDestination.week <= hi]
    if group_id:
        who = Population(team_id, group_id)
        cond.append(who.has(ActivityWeek.user_id))
        dcond.append(who.has(ActivityWeekDestination.user_id))
    per_week: dict[date, tuple[int, int, int]] = {}
    for w, wins, mins, told in session.execute(
            select(week, func.sum(ActivityWeek.wins_recorded), func.sum(ActivityWeek.minutes_recorded),
                   func.sum(ActivityWeek.minutes_recorded_told)).where(*cond).group_by(week)):
        per_week[_as_date(w)] = (int(wins or 0), int(mins or 0), int(told or 0))
    dests: dict[date, dict[str, int]] = {}
    # Grouped by week first, in the covering index's order.
    for w, d, m in session.execute(
            select(ActivityWeekDestination.week, ActivityWeekDestination.destination,
                   func.sum(ActivityWeekDestination.minutes_recorded)).where(*dcond)
            .group_by(ActivityWeekDestination.week, ActivityWeekDestination.destination)):
        if m:
            dests.setdefault(_as_date(w), {})[d] = int(m)
    tools: dict[date, list[tuple[str, int]]] = {}
    if not group_id:  # tools are counted per workspace only
        for w, t, n in session.execute(
                select(ActivityWeekTool.week, ActivityWeekTool.tool, ActivityWeekTool.wins)
                .where(ActivityWeekTool.team_id == team_id, ActivityWeekTool.week >= lo, ActivityWeekTool.week <= hi)):
            tools.setdefault(_as_date(w), []).append((t, int(n)))
    seen = activity(session, Population(team_id, group_id), lo, hi) if members_known(session, team_id) else None
    out = []
    for p in periods:
        weeks = p.mondays()
        wins = sum(per_week.get(w, (0, 0, 0))[0] for w in weeks)
        minutes = sum(per_week.get(w, (0, 0, 0))[1] for w in weeks)
        told = sum(per_week.get(w, (0, 0, 0))[2] for w in weeks)
        split: dict[str, int] = {}
        for w in weeks:
            for d, m in dests.get(w, {}).items():
                split[d] = split.get(d, 0) + m
        if minutes - told:
            split[NOT_SAID] = minutes - told
        out.append(Totals(p, wins, seen.count(p) if seen else None, minutes, Split(split),
                          _fold_tools(t for w in weeks for t in tools.get(w, ()))))
    return out


# -- one person -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Personal:
    """Your wins and your hours saved (the wins you own, each in full): all time, this week, this month."""

    wins: int
    wins_week: int
    wins_month: int
    minutes: int
    minutes_week: int
    minutes_month: int
    split: Split  # all time


def personal(session: Session, team_id: str, user_id: str, now: datetime) -> Personal:
    week, month = week_of(now), this_month(now).first
    rows = session.execute(
        select(ActivityWeek.week, ActivityWeek.wins_owned, ActivityWeek.minutes_owned, ActivityWeek.minutes_owned_told)
        .where(ActivityWeek.team_id == team_id, ActivityWeek.user_id == user_id, ActivityWeek.week <= week)).all()
    wins = [0, 0, 0]
    minutes = [0, 0, 0]
    told = 0
    for w, n, m, t in rows:
        w = _as_date(w)
        for i, counted in enumerate((True, w == week, w >= month)):
            if counted:
                wins[i] += int(n or 0)
                minutes[i] += int(m or 0)
        told += int(t or 0)
    split = {d: int(m) for d, m in session.execute(
        select(ActivityWeekDestination.destination, func.sum(ActivityWeekDestination.minutes_owned))
        .where(ActivityWeekDestination.team_id == team_id, ActivityWeekDestination.user_id == user_id,
               ActivityWeekDestination.week <= week)
        .group_by(ActivityWeekDestination.destination)) if m}
    if minutes[0] - told:
        split[NOT_SAID] = minutes[0] - told
    return Personal(wins[0], wins[1], wins[2], minutes[0], minutes[1], minutes[2], Split(split))


# -- leaders -----------------------------------------------------------------------------------------------------


def managers(session: Session, team_id: str, manager_ids: Iterable[str], *, group_id: str | None = None) -> set[str]:
    """The members who are managers: admins and owners, the managers list, and `manager_ids` (those Slack
    says are managers: the managers user group)."""
    listed = select(Manager.user_id).where(Manager.team_id == team_id)
    return set(session.scalars(Population(team_id, group_id).query().where(
        or_(Member.is_admin.is_(True), Member.is_owner.is_(True), Member.user_id.in_(listed),
            Member.user_id.in_(set(manager_ids))))))


def leaders_modeling(session: Session, team_id: str, period: Weeks, leaders: set[str]) -> list[str]:
    """Of `leaders` (see `managers`), those who posted a narrative in `period`, sorted."""
    if not leaders:
        return []
    return sorted(session.scalars(
        select(ActivityWeek.user_id).distinct()
        .where(ActivityWeek.team_id == team_id, ActivityWeek.week >= period.first, ActivityWeek.week <= period.last,
               ActivityWeek.narratives > 0, ActivityWeek.user_id.in_(leaders))))



# -- practices spreading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    tries: int
    practices_spread: int
    teachback_reach: int


def spread(session: Session, team_id: str, period: Weeks, *, group_id: str | None = None) -> Spread:
    """Tries, practices spread and teach-back reach in `period` (a team: the tries of its members)."""
    cond = [Tried.team_id == team_id, Tried.created_at >= period.start, Tried.created_at < period.end]
    if group_id:
        cond.append(Population(team_id, group_id).has(Tried.user_id))
    tries, spread_ = session.execute(
        select(func.count(), func.count(Tried.win_id.distinct())).where(*cond)).one()
    delivered = select(TeachBack.win_id, TeachBack.done_at).where(
        TeachBack.team_id == team_id, TeachBack.status == TB_DONE, TeachBack.done_at.is_not(None)).subquery()
    # The 30 days are compared here: date arithmetic is written differently in each database.
    rows = session.execute(select(Tried.id, Tried.created_at, delivered.c.done_at).join(
        delivered, delivered.c.win_id == Tried.win_id).where(*cond, Tried.created_at >= delivered.c.done_at))
    window = timedelta(days=TEACHBACK_REACH_DAYS)
    reach = len({tid for tid, at, done in rows if at - done <= window})
    return Spread(int(tries or 0), int(spread_ or 0), reach)


def most_tried(session: Session, team_id: str, period: Weeks, *shown: Any) -> tuple[int, int] | None:
    """(win id, tries) of the win tried most in `period` among the wins matching `shown` (the caller's
    privacy conditions on Win); ties go to the earliest tried. None when nothing was tried."""
    row = session.execute(
        select(Tried.win_id, func.count().label("n")).join(Win, Win.id == Tried.win_id)
        .where(Tried.team_id == team_id, Tried.created_at >= period.start, Tried.created_at < period.end, *shown)
        .group_by(Tried.win_id).order_by(func.count().desc(), func.min(Tried.created_at), Tried.win_id).limit(1)
    ).first()
    return (row[0], int(row[1])) if row else None
