"""The monthly leadership report: the month's adoption figures against last month, the 12-week trend
and three suggested actions derived from the figures. Sent on the first working day of each month at
09:00 in each recipient's time zone (bot/jobs/report.py), about the month before.

A month is defined in bot/services/figures.py (its whole UTC weeks), so its figures agree with every
other surface and never depend on the reader's zone; only the sending time is local."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AdoptionTeam, AdoptionTeamMember, Manager, Member
from bot.services import figures
from bot.services.adoption import AdoptionFigures, adoption_figures
from bot.services.figures import Population, Weeks, month_weeks
from bot.services.stats import zone

KIND_REPORT = "report"  # Delivery.kind; Delivery.channel_id holds the recipient, period the month
SEND_AT = time(9, 0)
_MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def parse_month(text: str) -> str:
    """"2026-11" → "2026-11"; ValueError otherwise."""
    if not _MONTH_RE.fullmatch((text or "").strip()):
        raise ValueError(text)
    return text.strip()


def month_before(month: str) -> str:
    y, m = (int(x) for x in month.split("-"))
    return f"{y - (m == 1)}-{(m - 2) % 12 + 1:02d}"


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def first_working_day(year: int, month: int) -> date:
    """The 1st, or the Monday after when the 1st is on a weekend (public holidays are not known)."""
    d = date(year, month, 1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def last_due(now: datetime, tz: str) -> tuple[datetime, str]:
    """The most recent sending instant at or before `now` for someone in `tz`, and the month it
    reports on (the month before the one it is sent in)."""
    local = now.astimezone(zone(tz))
    y, m = local.year, local.month
    for _ in range(2):
        d = first_working_day(y, m)
        at = datetime.combine(d, SEND_AT, tzinfo=zone(tz)).astimezone(UTC)
        if at <= now:
            return at, month_before(f"{y}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    raise AssertionError("unreachable: last month's first working day is in the past")


@dataclass(frozen=True)
class Recipient:
    user_id: str
    tz: str


def recipients(session: Session, team_id: str, group_members: Iterable[str] = ()) -> list[Recipient]:
    """Managers and admins who are members (humans, not deactivated), with their time zones."""
    listed = select(Manager.user_id).where(Manager.team_id == team_id)
    cond = (Member.is_admin.is_(True)) | (Member.is_owner.is_(True)) | Member.user_id.in_(listed)
    group = [u for u in group_members if u]
    if group:
        cond = cond | Member.user_id.in_(group)
    rows = session.execute(select(Member.user_id, Member.tz).where(figures.member_filter(team_id), cond)
                           .order_by(Member.user_id)).all()
    return [Recipient(u, tz or "UTC") for u, tz in rows]


@dataclass(frozen=True)
class TeamCoverage:
    group_id: str
    name: str | None
    members: int
    active: int

    @property
    def share(self) -> float | None:
        return self.active / self.members if self.members else None


def team_coverage(session: Session, team_id: str, period: Weeks) -> list[TeamCoverage]:
    """Each team's members and how many of them were active in `period`: coverage, as for the workspace."""
    seen = figures.activity(session, Population(team_id), period.first, period.last)
    members = set(session.scalars(Population(team_id).query()))
    teams: dict[str, set[str]] = {}
    for g, u in session.execute(select(AdoptionTeamMember.group_id, AdoptionTeamMember.user_id)
                                .where(AdoptionTeamMember.team_id == team_id)):
        if u in members:
            teams.setdefault(g, set()).add(u)
    active = {u for u in seen.people if seen.weeks_active(u, period)}
    names = dict(session.execute(select(AdoptionTeam.group_id, AdoptionTeam.name)
                                 .where(AdoptionTeam.team_id == team_id)).all())
    return [TeamCoverage(g, names.get(g), len(teams.get(g, ())), len(teams.get(g, set()) & active))
            for g in sorted(names)]


@dataclass(frozen=True)
class Report:
    team_id: str
    month: str
    figures: AdoptionFigures
    previous: AdoptionFigures
    teams: tuple[TeamCoverage, ...]
    actions: tuple[str, ...]  # three suggested actions, most useful first


def build_report(session: Session, team_id: str, month: str, *, manager_ids: Iterable[str] = (),
                 now: datetime | None = None) -> Report:
    managers = tuple(manager_ids)
    this = adoption_figures(session, team_id, manager_ids=managers, now=now, period=month_weeks(month))
    before = adoption_figures(session, team_id, manager_ids=managers, now=now,
                              period=month_weeks(month_before(month)))
    teams = tuple(team_coverage(session, team_id, this.period))
    return Report(team_id, month, this, before, teams, suggest(this, before, teams))


def suggest(f: AdoptionFigures, before: AdoptionFigures, teams: tuple[TeamCoverage, ...]) -> tuple[str, ...]:
    """Three actions, each read off a figure (most pressing first), padded with standing advice."""
    out: list[str] = []
    overall = f.coverage.now.share
    weak = [t for t in teams if t.members >= 3 and t.share is not None and overall is not None
            and t.share < overall]
    if weak:
        t = min(weak, key=lambda t: (t.share, t.group_id))
        out.append(f"Coverage in <!subteam^{t.group_id}> is {t.share:.0%} against {overall:.0%} overall: ask its "
                   "manager to share how they use AI (`/aiwin narrate`) in the team's channel.")
    if f.leaders.of and (f.leaders.share or 0) < 0.5:
        out.append(f"Only {f.leaders.count} of {f.leaders.of} managers shared a narrative: ask each manager for "
                   "one this month — people copy what their leaders do.")
    if f.dormant.count and f.dormant.count >= max(3, 0.1 * (f.dormant.of or 0)):
        out.append(f"{f.dormant.count} people who used AI before have been quiet for 60 days: run a teach-back "
                   "on a recent win to show them what works now.")
    if f.reinvestment.minutes and (f.reinvestment.share_told or 0) < 0.5:
        out.append(f"Only {(f.reinvestment.share_told or 0):.0%} of the time saved has a stated destination: "
                   "ask your teams where the hours went, so the savings become customer or learning time.")
    points = _change(f, before)
    if points is not None and points < 0:
        out.append(f"Coverage fell {abs(points):g} points from last month: turn on weekly leadership prompts "
                   "(`/aiwin prompts on`) in a managers' channel.")
    if f.coverage.now.count and f.habit.count < f.coverage.now.count / 2:
        out.append("Many try AI but few make it a habit: ask managers to open one meeting a week with a win.")
    if f.new:
        out.append(f"Welcome the {f.new} new adopters: a shout-out on their first win keeps them going.")
    out.append("Share this report with your leadership team and pick one action for the month.")
    out.append("Nominate a teach-back (react with :mortar_board:) on the most useful win of the month.")
    return tuple(dict.fromkeys(out))[:3]


def _change(f: AdoptionFigures, before: AdoptionFigures) -> float | None:
    """Coverage this month against last month, in points."""
    now, then = f.coverage.now.share, before.coverage.now.share
    if now is None or then is None:
        return None
    return round((now - then) * 100, 1)
