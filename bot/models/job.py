from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.win import BigId

JOB_PENDING, JOB_DONE, JOB_FAILED = "pending", "done", "failed"


class Job(Base):
    """A durable unit of slow work (a Slack call, an event to process), done after the ack.

    Rows survive restarts; workers in any process claim them with a lease. `dedupe_key`
    makes enqueueing idempotent: an event's id, a (channel, period) digest, a win's post.
    Not a TenantMixin: workers read the queue across workspaces by design; `team_id` still
    says whose work it is and picks the Slack client."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("team_id", "dedupe_key"),
        Index("ix_jobs_status_run_at", "status", "run_at"),
        # A worker's heartbeat renews every job it holds with one UPDATE … WHERE locked_by = me.
        Index("ix_jobs_locked_by", "locked_by"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=JOB_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker holding the lease (bot/jobs/worker.py Worker.worker_id); NULL when nobody does.
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Not a column: set by queue.claim when this claim took over a lease another worker let lapse
    # (it may have died after calling Slack and before recording that it had).
    taken_over = False
