from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer, "sqlite")

TEXT_WIRE = "wire"  # slash-command text in Slack's wire format (<@U…>, &amp;)
TEXT_PLAIN = "plain"  # typed into a modal: plain characters

POST_PENDING, POST_POSTED, POST_FAILED, POST_NONE = "pending", "posted", "failed", "none"


class Win(TenantMixin, Base):
    __tablename__ = "wins"
    __table_args__ = (
        # A retried or double-submitted command (same trigger_id) is one win.
        UniqueConstraint("team_id", "trigger_id"),
        Index("ix_wins_team_created", "team_id", "created_at"),
        Index("ix_wins_team_message", "team_id", "message_channel", "message_ts"),
        # "Record as AI win" on the same message twice by the same person is one win.
        Index("ux_wins_source_message", "team_id", "author_id", "source_channel", "source_ts", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    text_format: Mapped[str] = mapped_column(String(8), default=TEXT_WIRE)
    how: Mapped[str | None] = mapped_column(Text)
    tool: Mapped[str | None] = mapped_column(String(80))
    minutes_saved: Mapped[int | None] = mapped_column(Integer)
    reinvested_in: Mapped[str | None] = mapped_column(String(32))
    tags: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="command")
    trigger_id: Mapped[str | None] = mapped_column(String(128))
    post_status: Mapped[str] = mapped_column(String(16), default=POST_PENDING)
    message_channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Said in a private conversation (private channel, DM, group DM)? NULL: not known yet, treated as
    # private. Only `private IS false` wins are shown outside their conversation (bot/services/visibility.py).
    private: Mapped[bool | None] = mapped_column()
    # The message a win was recorded from (the "Record as AI win" shortcut): where it came from.
    source_channel: Mapped[str | None] = mapped_column(String(32))
    source_ts: Mapped[str | None] = mapped_column(String(32))
    source_thread_ts: Mapped[str | None] = mapped_column(String(32))  # the thread to celebrate in
    source_permalink: Mapped[str | None] = mapped_column(Text)
    reinvest_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one "where did it go?" DM
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owners: Mapped[list[WinOwner]] = relationship(
        back_populates="win", cascade="all, delete-orphan", passive_deletes=True, order_by="WinOwner.position"
    )

    @property
    def owner_ids(self) -> list[str]:
        return [o.user_id for o in self.owners]

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split() if self.tags else []


class WinOwner(TenantMixin, Base):
    """Who a win belongs to: its recipients, or its author for an own win."""

    __tablename__ = "win_owners"
    __table_args__ = (
        Index("ix_win_owners_team_user_created", "team_id", "user_id", "created_at"),
        Index("ix_win_owners_team_created", "team_id", "created_at"),
    )

    win_id: Mapped[int] = mapped_column(ForeignKey("wins.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A copy of the win's time so "this user's wins this month" is one index range.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    win: Mapped[Win] = relationship(back_populates="owners")
