"""Scheduled digests and leadership prompts: the scheduler's tick, and the post job (the CLI: bot/cli/deliveries.py).

The tick (every minute, in whichever process runs the scheduler) reads the active subscriptions
from the database, so `/aiwin digest on` takes effect without a restart. For each one it computes
the most recent due instant and its period (ISO week, bot/services/subscriptions.py) and, when no
Delivery exists for (team, kind, channel, period) yet:
* due within GRACE (36 h): claims it — inserts the Delivery and enqueues a `post_delivery` job in
  the same transaction. Only the one insert that wins the unique constraint enqueues, so two
  schedulers, two replicas or a CLI run at the same moment still post once. A digest that fell
  due while everything was down is posted when the tick runs again, if within GRACE;
* due longer ago (down for more than GRACE): records it as skipped and logs it, once.

The job posts through the durable queue: the worker honours Retry-After on 429s, paces each
channel (`pace_channel`), retries other errors a bounded number of times, and on giving up calls
`post_delivery:failed`, which records and logs what could not be posted. One failing channel is
one failed job; the others go on.

The one window left: a crash after Slack accepted a post but before its ts was recorded makes the
job run again and post a second time (Slack has no idempotency key for chat.postMessage); a post
that is never sent would be worse."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.blocks.digest import digest_blocks
from bot.blocks.prompts import prompt_blocks
from bot.db import Database
from bot.jobs.worker import JobContext, Permanent, RetryLater
from bot.models import (
    DELIVERY_CLAIMED,
    JOB_PENDING,
    KIND_DIGEST,
    KIND_PROMPTS,
    Job,
    Workspace,
    utcnow,
)
from bot.models.queue import enqueue
from bot.services import figures, people
from bot.services import subscriptions as subs
from bot.services.digest import build_digest
from bot.services.members import COPY_MEMBERS, refresh_members
from bot.services.prompts import BY_KEY, PROMPTS, prompt_for_channel
from bot.services.subscriptions import GRACE, DeliveryView, SubscriptionView
from bot.slack.client import NotInstalled
from bot.slack.directory import Directory
from bot.slack.links import workspace_url

log = logging.getLogger(__name__)

POST_DELIVERY = "post_delivery"
FIRST_COPY_WAIT = timedelta(minutes=10)  # a digest waits this long at most for a workspace's first member list


# -- the tick ------------------------------------------------------------------------------------------


@dataclass
class TickResult:
    claimed: list[int] = field(default_factory=list)  # Delivery ids this tick claimed (and enqueued)
    skipped: list[int] = field(default_factory=list)  # missed past GRACE, recorded as skipped
    errors: int = 0


def run_tick(db: Database, *, now: datetime | None = None,
             wake_worker: Callable[[], None] | None = None) -> TickResult:
    """Claim and enqueue every (subscription, period) that is due and not delivered yet."""
    now = now or utcnow()
    result = TickResult()
    with db.read() as session:
        active = subs.active_subscriptions(session)
    due: list[tuple[SubscriptionView, datetime, str]] = []
    for sub in active:
        try:
            at = subs.last_due(sub.schedule, sub.tz, now)
        except (ValueError, LookupError):  # a zone this machine's tzdata does not know
            result.errors += 1
            log.exception("subscription %s (team %s) has an unusable schedule", sub.id, sub.team_id)
            continue
        if at >= sub.active_since:  # only instants after it was turned on (or last changed)
            due.append((sub, at, subs.period_of(at)))
    if not due:
        return result
    with db.read() as session:
        known = subs.existing_deliveries(session, [(s.team_id, s.kind, s.channel_id, p) for s, _, p in due])
    for sub, at, period in due:
        if (sub.team_id, sub.kind, sub.channel_id, period) in known:
            continue
        try:
            if now - at > GRACE:
                delivery_id = _record_skip(db, sub, at, period, now)
                if delivery_id is not None:
                    result.skipped.append(delivery_id)
            else:
                delivery_id = claim(db, sub.team_id, sub.enterprise_id, sub.kind, sub.channel_id, period,
                                    tz=sub.tz, subscription_id=sub.id, now=now)[0]
                if delivery_id is not None:
                    result.claimed.append(delivery_id)
        except Exception:
            result.errors += 1
            log.exception("could not claim %s for channel %s, %s (team %s); the next tick tries again",
                          sub.kind, sub.channel_id, period, sub.team_id)
    if result.claimed:
        log.info("claimed %s deliveries for posting", len(result.claimed))
        if wake_worker is not None:
            wake_worker()
    return result


def claim(db: Database, team_id: str, enterprise_id: str | None, kind: str, channel_id: str, period: str, *,
          tz: str, subscription_id: int | None, now: datetime | None = None,
          retake: bool = False) -> tuple[int | None, int | None]:
    """Claim (team, kind, channel, period) and enqueue its post in one transaction.
    Returns (delivery id, job id), or (None, None) when someone else holds the claim."""
    with db.session(team_id) as session:
        prompt_key = prompt_for_channel(session, team_id, channel_id, before=period).key \
            if kind == KIND_PROMPTS else None
        delivery_id = subs.claim_delivery(session, team_id=team_id, kind=kind, channel_id=channel_id,
                                          period=period, subscription_id=subscription_id,
                                          prompt_key=prompt_key, now=now, retake=retake)
        if delivery_id is None:
            return None, None
        job_id = enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=POST_DELIVERY,
                         payload={"delivery_id": delivery_id, "pace_channel": channel_id, "tz": tz})
    return delivery_id, job_id


def _record_skip(db: Database, sub: SubscriptionView, at: datetime, period: str, now: datetime) -> int | None:
    hours = (now - at).total_seconds() / 3600
    reason = (f"missed: due {at:%Y-%m-%d %H:%M} UTC while the app was down; found {hours:.0f} h later, "
              f"past the {GRACE.total_seconds() / 3600:.0f} h grace window")
    with db.session(sub.team_id) as session:
        delivery_id = subs.claim_delivery(session, team_id=sub.team_id, kind=sub.kind,
                                          channel_id=sub.channel_id, period=period, subscription_id=sub.id,
                                          status=subs.DELIVERY_SKIPPED, error=reason, now=now)
    if delivery_id is not None:
        log.warning("skipped the %s for channel %s, %s (team %s): %s", sub.kind, sub.channel_id, period,
                    sub.team_id, reason)
    return delivery_id


def deliveries_tick(runtime: Any) -> None:
    run_tick(runtime.db, wake_worker=runtime.worker.wake_worker if runtime.worker else None)


# -- the post job --------------------------------------------------------------------------------------


def render_delivery(session: Session, delivery: DeliveryView, *, base_url: str | None = None,
                    group_members: Iterable[str] = ()) -> tuple[str, list[dict[str, Any]]]:
    """The message for a delivery: the week's digest, or the prompt it claimed. `base_url`: the workspace's
    address, for message links (bot/slack/links.py); `group_members`: the managers user group's members."""
    if delivery.kind == KIND_DIGEST:
        return digest_blocks(build_digest(session, delivery.team_id, delivery.period, channel_id=delivery.channel_id,
                                          base_url=base_url, group_members=group_members))
    prompt = BY_KEY.get(delivery.prompt_key or "", PROMPTS[0])
    ws = session.get(Workspace, delivery.team_id)
    return prompt_blocks(prompt, period=delivery.period, channel_id=delivery.channel_id,
                         has_policy=bool(ws and (ws.policy_text or ws.policy_url)),
                         policy_url=ws.policy_url if ws else None)


def post_delivery(ctx: JobContext, job: Job) -> Callable[[Session], None] | None:
    delivery_id = job.payload["delivery_id"]
    with ctx.db.read(job.team_id) as session:
        delivery = subs.get_delivery(session, delivery_id)
        if delivery is None or delivery.status != DELIVERY_CLAIMED:
            return  # posted by an earlier attempt, or no longer wanted
    try:
        client = ctx.client(job)
    except NotInstalled as e:
        raise Permanent(str(e)) from e
    base_url = group = None
    if delivery.kind == KIND_DIGEST:
        if _members_copy_pending(ctx.db, job.team_id, job.enterprise_id, ctx.wake_worker) \
                and utcnow() - job.created_at < FIRST_COPY_WAIT:
            raise RetryLater(5, "waiting for the first copy of the member list", counts=False)
        base_url = workspace_url(client, job.team_id)
        group = managers_group(ctx.db, client, job.team_id)
    with ctx.db.read(job.team_id) as session:
        text, blocks = render_delivery(session, delivery, base_url=base_url, group_members=group or ())
    # The worker waits out 429s, retries transient errors a bounded number of times, and fails the job at
    # once on an error after which posting there cannot work until a person does something (bot/slack/errors.py).
    response = client.chat_postMessage(channel=delivery.channel_id, text=text, blocks=blocks,
                                       unfurl_links=False, unfurl_media=False)
    ts = response["ts"]
    # Recorded in the transaction that marks the job done.
    return lambda session: subs.mark_posted(session, delivery_id, ts)


def _members_copy_pending(db: Database, team_id: str, enterprise_id: str | None,
                          wake: Callable[[], None]) -> bool:
    """Start the daily copy of the member list if it is due (the digest's people are the members active in
    the week) and say whether the workspace has none yet while one is on its way: before a first copy the
    digest would count only the few members met one by one, so it waits for it (FIRST_COPY_WAIT at most)."""
    if refresh_members(db, team_id, enterprise_id):
        wake()
    with db.read(team_id) as session:
        if figures.members_known(session, team_id):
            return False
        return session.scalar(select(Job.id).where(Job.team_id == team_id, Job.kind == COPY_MEMBERS,
                                                   Job.status == JOB_PENDING).limit(1)) is not None


def managers_group(db: Database, client: Any, team_id: str) -> frozenset[str]:
    """The managers user group's members, for "leaders modeling" (admins and the managers list count without
    it, so a failure costs only the group, never the digest)."""
    try:
        return people.managers_group_members(db, Directory(client), team_id)
    except Exception:  # noqa: BLE001 - a bonus, as above
        log.warning("managers group of %s could not be read for the digest", team_id, exc_info=True)
        return frozenset()


def post_delivery_gave_up(ctx: JobContext, job: Job) -> None:
    with ctx.db.read() as session:
        row = session.get(Job, job.id)
        reason = (row.last_error if row else None) or "unknown error"
    with ctx.db.session(job.team_id) as session:
        recorded = subs.mark_failed(session, job.payload["delivery_id"], reason)
        delivery = subs.get_delivery(session, job.payload["delivery_id"])
    if recorded and delivery is not None:
        log.warning("could not post the %s to channel %s for %s (team %s, delivery %s): %s", delivery.kind,
                    delivery.channel_id, delivery.period, delivery.team_id, delivery.id, reason)


# The post job and its give-up note (bot/registry.py lists them; the CLI runs them in-process too).
HANDLERS = {POST_DELIVERY: post_delivery, f"{POST_DELIVERY}:failed": post_delivery_gave_up}
