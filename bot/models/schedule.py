from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin
from bot.models.win import BigId

KIND_DIGEST, KIND_PROMPTS = "digest", "prompts"
DELIVERY_CLAIMED, DELIVERY_POSTED, DELIVERY_FAILED = "claimed", "posted", "failed"


class Subscription(TenantMixin, Base):
    """A channel's weekly digest or leadership prompts: which weekday and time, in which zone."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("team_id", "kind", "channel_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(32))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday … 6 = Sunday
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    tz: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Delivery(TenantMixin, Base):
    """The claim on one (kind, channel, period): inserted before posting, so however many
    schedulers, replicas or CLI runs try, one wins the unique constraint and posts."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("team_id", "kind", "channel_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))  # ISO week, e.g. "2026-W48"
    prompt_key: Mapped[str | None] = mapped_column(String(64))  # which prompt was sent (rotation)
    status: Mapped[str] = mapped_column(String(16), default=DELIVERY_CLAIMED)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
