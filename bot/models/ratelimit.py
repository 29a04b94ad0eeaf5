from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base
from bot.models.tenant import TenantMixin


class RateLimit(TenantMixin, Base):
    """One person's token bucket for one action (bot/services/ratelimit.py), kept as GCRA's
    "theoretical arrival time": one float per row, updated by a single upsert."""

    __tablename__ = "rate_limits"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(32), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, nullable=False)  # Unix seconds
