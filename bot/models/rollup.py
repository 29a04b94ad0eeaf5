"""Maintained per-person per-week activity (bot/services/rollups.py keeps them exact).

Weeks are UTC ISO weeks, keyed by their Monday's date: a win's week never depends on who is
looking or on daylight-saving changes. A row exists only while its person did something that
week (rows that fall to zero are deleted), so "active in week W" is "a row exists"."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base
from bot.models.tenant import TenantMixin


class ActivityWeek(TenantMixin, Base):
    __tablename__ = "activity_weeks"
    # Team figures read a range of weeks for everyone (App Home's trend, the adoption sums, team
    # coverage): (team, week) with the person and every column they sum in the index, so they are
    # answered from the index alone. Per-person reads use the primary key (team, user, week).
    __table_args__ = (Index("ix_activity_weeks_team_week_sums", "team_id", "week", "user_id", "wins_recorded",
                            "wins_owned", "narratives", "minutes_recorded", "minutes_recorded_told"),)

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)  # Monday of the UTC ISO week
    wins_recorded: Mapped[int] = mapped_column(Integer, default=0)  # wins this person wrote (own or shout-out)
    wins_owned: Mapped[int] = mapped_column(Integer, default=0)  # wins credited to them (own + received)
    shoutouts: Mapped[int] = mapped_column(Integer, default=0)  # of those, written by someone else
    narratives: Mapped[int] = mapped_column(Integer, default=0)
    minutes_owned: Mapped[int] = mapped_column(Integer, default=0)  # full time of each owned win
    minutes_owned_told: Mapped[int] = mapped_column(Integer, default=0)  # … that has a destination
    minutes_recorded: Mapped[int] = mapped_column(Integer, default=0)  # time of the wins they wrote: each win once
    minutes_recorded_told: Mapped[int] = mapped_column(Integer, default=0)


class ActivityWeekDestination(TenantMixin, Base):
    """Where the saved time went, per person and week (only wins with a stated destination)."""

    __tablename__ = "activity_week_destinations"
    __table_args__ = (Index("ix_activity_week_destinations_team_week_cover", "team_id", "week", "destination",
                            "minutes_recorded"),)  # the split reads the index alone

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    destination: Mapped[str] = mapped_column(String(32), primary_key=True)
    minutes_owned: Mapped[int] = mapped_column(Integer, default=0)
    minutes_recorded: Mapped[int] = mapped_column(Integer, default=0)


class ActivityWeekTool(TenantMixin, Base):
    """Wins per tool and week for the whole workspace (each win once): App Home's top tools."""

    __tablename__ = "activity_week_tools"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    tool: Mapped[str] = mapped_column(String(80), primary_key=True)
    wins: Mapped[int] = mapped_column(Integer, default=0)


class ActivityPerson(TenantMixin, Base):
    """Each person's first and last active week and which of the 62 weeks up to the last they were
    active in: coverage, habit, new, dormant and the trend read one row per person, not a row per
    person-week (bot/services/adoption.py)."""

    __tablename__ = "activity_people"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_week: Mapped[date] = mapped_column(Date)
    last_week: Mapped[date] = mapped_column(Date)
    # Bit i set ⇔ active in the week `last_week − i weeks`, for i < 62 (a signed 64-bit integer on
    # both databases). Kept in the same upsert as last_week (bot/services/rollups.py).
    recent: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
