"""Scheduled digests and leadership prompts: the scheduler's tick, the post job, and the CLI.

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

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.blocks.digest import digest_blocks
from bot.blocks.prompts import prompt_blocks
from bot.blocks.render import blocks_to_text
from bot.db import Database
from bot.directory import Directory
from bot.installations import TokenRefreshFailed
from bot.jobs.handlers import CHANNEL_ERRORS
from bot.jobs.links import workspace_url
from bot.jobs.worker import LEASE, TOKEN_REFRESH_FAILED, Handler, JobContext, Permanent, RetryLater, Worker
from bot.models import (
    DELIVERY_CLAIMED,
    DELIVERY_FAILED,
    DELIVERY_POSTED,
    JOB_PENDING,
    KIND_DIGEST,
    KIND_PROMPTS,
    Job,
    Member,
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
from bot.settings import ConfigError, Settings
from bot.slack_client import AUTH_ERRORS, NotInstalled, make_clients

log = logging.getLogger(__name__)

POST_DELIVERY = "post_delivery"
FIRST_COPY_WAIT = timedelta(minutes=10)  # a digest waits this long at most for a workspace's first member list
# Slack errors after which posting to that channel cannot work until a person does something.
PERMANENT_ERRORS = CHANNEL_ERRORS | {
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope",
    "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text",
}
CLI_WAIT_SECONDS = 300  # how long `--post` waits for retries (429s, 5xx) before leaving it to the worker


# -- the tick ------------------------------------------------------------------------------------------


@dataclass
class TickResult:
    claimed: list[int] = field(default_factory=list)  # Delivery ids this tick claimed (and enqueued)
    skipped: list[int] = field(default_factory=list)  # missed past GRACE, recorded as skipped
    errors: int = 0


def run_tick(db: Database, *, now: datetime | None = None,
             notify: Callable[[], None] | None = None) -> TickResult:
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
        if notify is not None:
            notify()
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
    run_tick(runtime.db, notify=runtime.worker.notify if runtime.worker else None)


# -- the post job --------------------------------------------------------------------------------------


def render_delivery(session: Session, delivery: DeliveryView, *, base_url: str | None = None,
                    group_members: Iterable[str] = ()) -> tuple[str, list[dict[str, Any]]]:
    """The message for a delivery: the week's digest, or the prompt it claimed. `base_url`: the workspace's
    address, for message links (bot/jobs/links.py); `group_members`: the managers user group's members."""
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
        if _members_copy_pending(ctx.db, job.team_id, job.enterprise_id, ctx.enqueue_hook) \
                and utcnow() - job.created_at < FIRST_COPY_WAIT:
            raise RetryLater(5, "waiting for the first copy of the member list", counts=False)
        base_url = workspace_url(client, job.team_id)
        group = _managers_group(ctx.db, client, job.team_id)
    with ctx.db.read(job.team_id) as session:
        text, blocks = render_delivery(session, delivery, base_url=base_url, group_members=group or ())
    try:
        response = client.chat_postMessage(channel=delivery.channel_id, text=text, blocks=blocks,
                                           unfurl_links=False, unfurl_media=False)
    except SlackApiError as e:
        error = e.response.get("error")
        if error in PERMANENT_ERRORS:
            raise Permanent(str(error)) from e
        raise  # the worker waits out 429s and retries transient errors, a bounded number of times
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


def _managers_group(db: Database, client: Any, team_id: str) -> frozenset[str]:
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


# -- the CLI -------------------------------------------------------------------------------------------


def cli_digest(args: argparse.Namespace, settings: Settings) -> int:
    """`aiwins digest [--team T] [--channel C] [--week 2026-W48] [--post]`."""
    return _cli(KIND_DIGEST, args, settings)


def cli_prompts(args: argparse.Namespace, settings: Settings) -> int:
    """`aiwins prompts [--team T] [--channel C] [--post]`."""
    return _cli(KIND_PROMPTS, args, settings)


def _fail(message: str) -> int:
    print(f"aiwins: {message}", file=sys.stderr)
    return 2


def _cli(kind: str, args: argparse.Namespace, settings: Settings) -> int:
    week = None
    if getattr(args, "week", None):
        try:
            week = subs.parse_week(args.week)
        except ValueError:
            return _fail(f"--week must be an ISO week like 2026-W48 (got {args.week!r})")
    if args.post and not (settings.slack_bot_token or settings.oauth_enabled):
        raise ConfigError("SLACK_BOT_TOKEN is not set: posting needs it "
                          "(or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)")
    db = Database(settings.database_url, pool_size=2)
    try:
        with db.read() as session:
            teams = session.execute(select(Workspace.team_id, Workspace.enterprise_id)
                                    .order_by(Workspace.team_id).execution_options(all_tenants=True)).all()
        known = {t.team_id: t.enterprise_id for t in teams}
        if args.team and args.team not in known:
            return _fail(f"no workspace {args.team} in the database (known: {', '.join(known) or 'none'})")
        if not args.team and len(known) != 1:
            return _fail("no workspace in the database yet" if not known else
                         f"pass --team: the database has {len(known)} workspaces: {', '.join(known)}")
        team_id = args.team or next(iter(known))
        with db.read(team_id) as session:
            if args.channel:
                sub = subs.get_subscription(session, team_id, kind, args.channel)
                targets = [(args.channel, sub.tz if sub else "UTC", sub.id if sub else None)]
            else:
                active = subs.active_subscriptions(session, team_id=team_id, kind=kind)
                targets = [(s.channel_id, s.tz, s.id) for s in active]
            names = {r.user_id: r.name for r in session.execute(select(Member.user_id, Member.name))}
        if args.post and not targets:
            return _fail(f"no channel has {kind} turned on; pass --channel C… to post to one")
        clients = None
        if args.post or settings.slack_bot_token or settings.oauth_enabled:
            clients = make_clients(settings, db)
        base_url = _workspace_url(clients, team_id, known[team_id]) if kind == KIND_DIGEST else None
        group: frozenset[str] = frozenset()
        if kind == KIND_DIGEST and clients is not None:  # the same people and managers as the posted digest
            with contextlib.suppress(NotInstalled, TokenRefreshFailed):
                client = clients.for_team(team_id, known[team_id])
                _copy_members_here(db, clients, team_id, known[team_id])
                group = _managers_group(db, client, team_id)

        def name_of(user_id: str) -> str:
            # People the bot never looked up have no cached name: ask Slack once, when we can.
            if user_id not in names and clients is not None:
                names[user_id] = _slack_name(clients, team_id, known[team_id], user_id)
            return names.get(user_id) or user_id

        code = 0
        for channel, tz, sub_id in targets or [(None, "UTC", None)]:
            period = week or subs.iso_week(utcnow())
            _print(db, kind, team_id, channel, period, name_of, base_url, group)
            if args.post and clients is not None and channel:
                code = max(code, _post(db, clients, team_id, known[team_id], kind, channel, period, tz,
                                       sub_id))
        return code
    finally:
        db.dispose()


def _workspace_url(clients: Any, team_id: str, enterprise_id: str | None) -> str | None:
    """The workspace's address for the digest's message links, when a token lets us ask Slack."""
    if clients is None:
        return None
    try:
        return workspace_url(clients.for_team(team_id, enterprise_id), team_id)
    except (NotInstalled, TokenRefreshFailed):
        return None


def _slack_name(clients: Any, team_id: str, enterprise_id: str | None, user_id: str) -> str | None:
    try:
        user = Directory(clients.for_team(team_id, enterprise_id)).user(user_id) or {}
    except Exception:  # a name is a nicety: the id is shown instead
        return None
    profile = user.get("profile") or {}
    return profile.get("display_name") or profile.get("real_name") or user.get("name")


def _print(db: Database, kind: str, team_id: str, channel: str | None, period: str,
           name_of: Callable[[str], str], base_url: str | None = None, group: Iterable[str] = ()) -> None:
    with db.read(team_id) as session:
        existing = subs.find_delivery(session, team_id, kind, channel, period) if channel else None
        if kind == KIND_DIGEST:
            _, blocks = digest_blocks(build_digest(session, team_id, period, channel_id=channel, base_url=base_url,
                                                   group_members=group))
        else:
            if existing and existing.prompt_key:
                prompt = BY_KEY.get(existing.prompt_key, PROMPTS[0])
            elif channel:
                prompt = prompt_for_channel(session, team_id, channel, before=period)
            else:
                prompt = PROMPTS[0]
            _, blocks = prompt_blocks(prompt, period=period, channel_id=channel or "")
    where = f"channel {channel}" if channel else f"workspace {team_id} (no channel)"
    print(f"# {'Digest' if kind == KIND_DIGEST else 'Leadership prompt'} for {where} · {period} (a UTC week)")
    print(blocks_to_text(blocks, name_of, style=sys.stdout.isatty()))
    print(f"# status: {_status(existing)}\n")


def _status(d: DeliveryView | None) -> str:
    if d is None:
        return "not posted yet"
    if d.status == DELIVERY_POSTED:
        return f"posted {d.posted_at:%Y-%m-%d %H:%M} UTC (ts {d.message_ts})" if d.posted_at else "posted"
    if d.status == DELIVERY_FAILED:
        return f"FAILED: {d.error}"
    if d.status == subs.DELIVERY_SKIPPED:
        return f"skipped ({d.error})"
    return f"being posted (claimed {d.claimed_at:%Y-%m-%d %H:%M} UTC)"


def _post(db: Database, clients: Any, team_id: str, enterprise_id: str | None, kind: str, channel: str,
          period: str, tz: str, sub_id: int | None) -> int:
    delivery_id, job_id = claim(db, team_id, enterprise_id, kind, channel, period, tz=tz,
                                subscription_id=sub_id, retake=True)
    if delivery_id is None:
        with db.read(team_id) as session:
            existing = subs.find_delivery(session, team_id, kind, channel, period)
        print(f"{kind} for {channel}, {period}: already {_status(existing)}; not posting again")
        return 0
    assert job_id is not None
    refused = _run_here(db, clients, job_id, HANDLERS)
    if refused:
        print(f"{kind} for {channel}, {period}: could not post: Slack refuses the workspace's token ({refused}); "
              "a running worker tries again later")
        return 1
    with db.read(team_id) as session:
        delivery = subs.get_delivery(session, delivery_id)
    if delivery is not None and delivery.status == DELIVERY_POSTED:
        print(f"{kind} for {channel}, {period}: posted (ts {delivery.message_ts})")
        return 0
    if delivery is not None and delivery.status == DELIVERY_FAILED:
        print(f"{kind} for {channel}, {period}: could not post: {delivery.error}")
        return 1
    print(f"{kind} for {channel}, {period}: queued; a running scheduler or server will finish posting it")
    return 0


def _copy_members_here(db: Database, clients: Any, team_id: str, enterprise_id: str | None) -> None:
    """The member list's daily copy, run in this process when it is due (the printed digest counts members)."""
    from bot.jobs.members import copy_members

    refresh_members(db, team_id, enterprise_id)
    with db.read(team_id) as session:
        job_id = session.scalar(select(Job.id).where(Job.team_id == team_id, Job.kind == COPY_MEMBERS,
                                                     Job.status == JOB_PENDING).limit(1))
    if job_id is not None:
        _run_here(db, clients, job_id, {COPY_MEMBERS: copy_members})


def _run_here(db: Database, clients: Any, job_id: int, handlers: Mapping[str, Handler]) -> str | None:
    """Run a job in this process, through the worker's own retry logic, until it is done
    or failed (or CLI_WAIT_SECONDS pass). A scheduler's worker may take the job meanwhile: the
    job's lease and the Delivery's status keep that to one post. Slack refusing the token (expired,
    revoked, a refresh that failed) is not worth waiting for: returns the reason at once, the job
    stays queued."""
    worker = Worker(JobContext(db=db, clients=clients), threads=1, handlers=handlers)
    deadline = time.monotonic() + CLI_WAIT_SECONDS
    while time.monotonic() < deadline:
        now = utcnow()
        with db.session() as session:
            job = session.scalars(
                update(Job)
                .where(Job.id == job_id, Job.status == JOB_PENDING, Job.run_at <= now,
                       or_(Job.locked_until.is_(None), Job.locked_until < now))
                .values(locked_until=now + LEASE, locked_by=worker.worker_id, attempts=Job.attempts + 1)
                .returning(Job)
                .execution_options(synchronize_session=False)
            ).first()
        if job is not None:
            worker.run_job(job)
            with db.read() as session:
                error = session.scalar(select(Job.last_error).where(Job.id == job_id, Job.status == JOB_PENDING))
            if _token_refused(error):
                return error
            continue
        with db.read() as session:
            row = session.get(Job, job_id)
            if row is None or row.status != JOB_PENDING:
                return None
            wait = max((row.run_at - now).total_seconds(), 0.2)
        time.sleep(min(wait, 5.0))  # Retry-After, backoff, or another worker's lease
    return None


def _token_refused(error: str | None) -> bool:
    return error == TOKEN_REFRESH_FAILED or (error or "").removeprefix("slack error ") in AUTH_ERRORS
