""""I tried it too": a person says they adopted the practice of a win or a story."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin
from bot.models.win import BigId


class Tried(TenantMixin, Base):
    """One person's "I tried it too" on one win or one story (exactly one of the two is set): once each."""

    __tablename__ = "tries"
    __table_args__ = (
        UniqueConstraint("team_id", "win_id", "user_id"),
        UniqueConstraint("team_id", "narrative_id", "user_id"),
        Index("ix_tries_team_created", "team_id", "created_at"),
        Index("ix_tries_team_user", "team_id", "user_id"),  # what a person tried (the coach leaves it out)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    win_id: Mapped[int | None] = mapped_column(ForeignKey("wins.id", ondelete="CASCADE"))
    narrative_id: Mapped[int | None] = mapped_column(ForeignKey("narratives.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
