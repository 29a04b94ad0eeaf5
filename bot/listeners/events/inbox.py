"""Events are written to the durable job queue before the ack, keyed by `event_id`.

Slack redelivers an event up to three times (X-Slack-Retry-Num); the unique (team, dedupe_key)
constraint on jobs turns every redelivery, even two at the same instant, into a no-op. The work
itself (users.info, DMs, views.publish) runs in a job handler after the ack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.deps import Deps
from bot.models.queue import enqueue

EventAck = Callable[..., None]


def durable_event(kind: str) -> EventAck:
    """An ack function that queues the event as a job of `kind` (handled in bot/jobs/)."""

    def ack_event(ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        deps: Deps = context["deps"]
        team_id = context.team_id or body.get("team_id")
        event_id = body.get("event_id")
        with deps.db.session(team_id) as session:
            created = enqueue(
                session,
                team_id=team_id,
                enterprise_id=context.enterprise_id,
                kind=kind,
                dedupe_key=f"event:{event_id}" if event_id else None,
                payload={"event": event, "event_id": event_id, "event_time": body.get("event_time")},
            )
        if created:
            deps.wake_worker()
        ack()

    ack_event.__name__ = f"ack_{kind}"
    return ack_event
