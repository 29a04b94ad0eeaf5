"""Teams for adoption figures: Slack user groups an admin marked with `/aiwin adoption teams add`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin


class AdoptionTeam(TenantMixin, Base):
    __tablename__ = "adoption_teams"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the user group's S… id
    name: Mapped[str | None] = mapped_column(String(255))  # its handle when added, for listings
    added_by: Mapped[str] = mapped_column(String(32))
    members_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # usergroups.users.list, daily
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdoptionTeamMember(TenantMixin, Base):
    """A copy of usergroups.users.list, so figures are cut by team in SQL. Teams may overlap."""

    __tablename__ = "adoption_team_members"
    __table_args__ = (
        ForeignKeyConstraint(["team_id", "group_id"], ["adoption_teams.team_id", "adoption_teams.group_id"],
                             ondelete="CASCADE"),
    )

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
