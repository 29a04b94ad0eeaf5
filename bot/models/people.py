from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.tenant import TenantMixin


class Manager(TenantMixin, Base):
    """Someone an admin made a manager with `/aiwin managers add`. (Admins and members of the
    configured user group are managers without a row here: bot/services/people.py.)"""

    __tablename__ = "managers"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OptOut(TenantMixin, Base):
    """`/aiwin optout`: never named in digests, lists or others' views; still counted in team figures (their
    own view stays)."""

    __tablename__ = "optouts"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
