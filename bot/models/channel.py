from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin


class Channel(TenantMixin, Base):
    """A cache of Slack's conversation object (conversations.info): is it private, is the bot in it.

    Slack stays the source of truth (never the id's first letter); rows are refreshed when older than
    a day (bot/services/channels.py). `is_private` NULL means Slack has not told us yet."""

    __tablename__ = "channels"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    is_private: Mapped[bool | None] = mapped_column()  # private channel, DM or group DM
    is_member: Mapped[bool | None] = mapped_column()  # the bot is in it (reactions reach us)
    is_archived: Mapped[bool] = mapped_column(default=False)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
