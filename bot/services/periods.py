"""Periods, as every figure counts them (bot/services/figures.py defines the figures and re-exports these).

* **week**: an ISO week in UTC, Monday 00:00 UTC to the next Monday: the same for every viewer and channel.
* **month**: the ISO weeks whose Thursday falls in the calendar month (ISO 8601's rule; 4 or 5 whole weeks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


def week_of(at: datetime) -> date:
    """Monday of the UTC ISO week `at` falls in."""
    day = at.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def at_week(week: date) -> datetime:
    """Monday 00:00 UTC of `week`."""
    return datetime(week.year, week.month, week.day, tzinfo=UTC)


@dataclass(frozen=True)
class Weeks:
    """Whole UTC weeks `first` … `last` (their Mondays)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return at_week(self.first)

    @property
    def end(self) -> datetime:
        """Where the period ends (exclusive): the Monday after its last week."""
        return at_week(self.last) + timedelta(weeks=1)

    @property
    def count(self) -> int:
        return (self.last - self.first).days // 7 + 1

    def before(self) -> Weeks:
        """The same number of weeks just before."""
        return Weeks(self.first - timedelta(weeks=self.count), self.first - timedelta(weeks=1))

    def mondays(self) -> list[date]:
        return [self.first + timedelta(weeks=i) for i in range(self.count)]


def last_weeks(now: datetime, count: int) -> Weeks:
    """The current week and the `count - 1` before it."""
    last = week_of(now)
    return Weeks(last - timedelta(weeks=count - 1), last)


def month_weeks(month: str) -> Weeks:
    """The weeks of a month "2026-11": those whose Thursday falls in it."""
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    last_thursday = nxt - timedelta(days=1)
    last_thursday -= timedelta(days=(last_thursday.weekday() - 3) % 7)
    return Weeks(thursday - timedelta(days=3), last_thursday - timedelta(days=3))


def month_of(week: date) -> str:
    """The month ("2026-11") a week belongs to: its Thursday's."""
    return f"{week + timedelta(days=3):%Y-%m}"


def this_month(now: datetime) -> Weeks:
    """The current week's month, from its first week to the current one."""
    week = week_of(now)
    return Weeks(month_weeks(month_of(week)).first, week)
