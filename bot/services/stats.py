"""`/aiwin stats`: the caller's own figures and the team's this week and this month, with coverage over
the last 4 weeks. Every figure is defined and read in bot/services/figures.py, as on every other surface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.models import OptOut, utcnow
from bot.services import figures
from bot.services.figures import SHORT_WEEKS, Change, Personal, Totals
from bot.services.people import DEFAULT_TZ


@dataclass(frozen=True)
class StatsReport:
    user_id: str
    personal: Personal
    week: Totals
    month: Totals
    coverage: Change  # the last 4 weeks
    members_known: bool
    opted_out: bool


def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def stats_report(session: Session, team_id: str, user_id: str, now: datetime | None = None) -> StatsReport:
    now = now or utcnow()
    week, month = figures.totals(session, team_id, [figures.last_weeks(now, 1), figures.this_month(now)])
    return StatsReport(
        user_id=user_id,
        personal=figures.personal(session, team_id, user_id, now),
        week=week,
        month=month,
        coverage=figures.coverage(session, team_id, figures.last_weeks(now, SHORT_WEEKS)),
        members_known=figures.members_known(session, team_id),
        opted_out=session.get(OptOut, (team_id, user_id)) is not None,
    )
