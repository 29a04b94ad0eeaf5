from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin
from bot.models.win import BigId

NOMINATION_ACTIVE, NOMINATION_WITHDRAWN = "active", "withdrawn"
TB_NOMINATED, TB_ACCEPTED, TB_DECLINED, TB_DONE, TB_WITHDRAWN = (
    "nominated", "accepted", "declined", "done", "withdrawn",
)


class Nomination(TenantMixin, Base):
    """A manager's 🎓 on a win. One per (win, manager); removing the reaction withdraws it."""

    __tablename__ = "nominations"
    __table_args__ = (UniqueConstraint("win_id", "manager_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    win_id: Mapped[int] = mapped_column(ForeignKey("wins.id", ondelete="CASCADE"))
    manager_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=NOMINATION_ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TeachBack(TenantMixin, Base):
    """One owner of a nominated win, invited to teach the team how they did it.

    nominated → accepted → done, or declined; withdrawn when every nomination is withdrawn
    before the owner accepted. `invited_at` is set once: re-adding a reaction never re-invites."""

    __tablename__ = "teachbacks"
    __table_args__ = (
        UniqueConstraint("win_id", "owner_id"),
        Index("ix_teachbacks_team_status", "team_id", "status"),
        Index("ix_teachbacks_team_updated", "team_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    win_id: Mapped[int] = mapped_column(ForeignKey("wins.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=TB_NOMINATED)
    first_manager_id: Mapped[str] = mapped_column(String(32))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
