"""`/aiwin <win>` is acknowledged after one write: the command itself, as a job in the durable queue.

The ack path verifies the request, parses the text (pure code), asks this process's copy of the
per-person limit (no write), stores the command with ONE statement (`INSERT … ON CONFLICT DO NOTHING`
on the queue, keyed by the command's trigger_id, so a repeated command is one job) and answers.
Nothing acknowledged can be lost: the job is committed before Slack hears back. The job worker then
records the win through the win service (the per-person limit's authority, owners, roll-ups, App Home)
in one transaction and celebrates it, in the same job (bot/jobs/wins.py: `record_command`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.models.queue import enqueue

RECORD_COMMAND = "record_command"  # Job.kind


def accept_command(session: Session, *, team_id: str, enterprise_id: str | None, user_id: str,
                   channel_id: str | None, text: str, trigger_id: str | None, response_url: str | None) -> bool:
    """Store the command for the worker, in the caller's transaction. False when this trigger_id was
    stored before (Slack's retry, a double submit)."""
    payload: dict[str, Any] = {"user_id": user_id, "channel_id": channel_id, "text": text,
                               "trigger_id": trigger_id, "response_url": response_url}
    if channel_id:
        payload["pace_channel"] = channel_id  # its celebration keeps the channel's one post a second
    return enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=RECORD_COMMAND, payload=payload,
                   dedupe_key=f"cmd:{trigger_id}" if trigger_id else None) is not None
