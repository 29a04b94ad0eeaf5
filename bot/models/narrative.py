from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin
from bot.models.win import TEXT_WIRE, BigId


class Narrative(TenantMixin, Base):
    """A usage narrative: how someone actually uses AI, step by step ("how I use AI" story)."""

    __tablename__ = "narratives"
    __table_args__ = (
        UniqueConstraint("team_id", "trigger_id"),
        Index("ix_narratives_team_created", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # how they did it (the story itself)
    text_format: Mapped[str] = mapped_column(String(8), default=TEXT_WIRE)
    tools: Mapped[str | None] = mapped_column(Text)  # what they used
    checked: Mapped[str | None] = mapped_column(Text)  # what they checked themselves
    minutes_saved: Mapped[int | None] = mapped_column(Integer)
    is_leader: Mapped[bool] = mapped_column(default=False)  # a manager when they shared it
    prompt_period: Mapped[str | None] = mapped_column(String(16))  # answering that week's prompt
    channel_id: Mapped[str | None] = mapped_column(String(32))
    trigger_id: Mapped[str | None] = mapped_column(String(128))
    post_status: Mapped[str] = mapped_column(String(16), default="pending")
    message_channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    private: Mapped[bool | None] = mapped_column()  # as Win.private: NULL is treated as private
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
