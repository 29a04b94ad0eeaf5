from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin


class Workspace(TenantMixin, Base):
    """One Slack workspace (team) and its settings. Created on first contact."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    teachback_emoji: Mapped[str] = mapped_column(String(100), default="mortar_board", server_default="mortar_board")
    managers_usergroup_id: Mapped[str | None] = mapped_column(String(32))
    policy_text: Mapped[str | None] = mapped_column(Text)
    policy_url: Mapped[str | None] = mapped_column(Text)
    policy_updated_by: Mapped[str | None] = mapped_column(String(32))
    policy_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    members_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # users.list, at most daily
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # app_uninstalled / tokens_revoked
    # The AI coach may use the configured model (LLM_BASE_URL); an admin turns it off with `/aiwin coach model off`.
    coach_model: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Member(TenantMixin, Base):
    """A cache of Slack's user object (users.info / users.list): who is an admin, time zone, bots.

    Slack stays the source of truth; rows are refreshed when older than a short expiry."""

    __tablename__ = "members"
    # "Who is a member" (adoption's population, 10,000 people) and which of them are admins or owners
    # (the managers), read from the index alone.
    __table_args__ = (Index("ix_members_human", "team_id", "is_guest", "is_bot", "deleted", "user_id", "is_admin",
                            "is_owner"),)

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    tz: Mapped[str | None] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_owner: Mapped[bool] = mapped_column(default=False)
    is_bot: Mapped[bool] = mapped_column(default=False)
    deleted: Mapped[bool] = mapped_column(default=False)
    is_guest: Mapped[bool] = mapped_column(default=False, server_default=false())  # is_restricted / ultra
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When they last opened App Home: only recent openers get it rebuilt in the background (HOME_OPENERS).
    home_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
