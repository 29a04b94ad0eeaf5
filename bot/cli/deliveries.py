"""`aiwins digest` and `aiwins prompts`: print this week's digest or leadership prompt as Slack would show it,
and with `--post` post it now, through the same job the scheduler queues (run here, in this process)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import or_, select, update

from bot.blocks.digest import digest_blocks
from bot.blocks.prompts import prompt_blocks
from bot.blocks.render import blocks_to_text
from bot.db import Database
from bot.installations import TokenRefreshFailed
from bot.jobs.deliveries import HANDLERS, claim, managers_group
from bot.jobs.worker import LEASE, TOKEN_REFRESH_FAILED, Handler, JobContext, Worker
from bot.models import (
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
from bot.services import subscriptions as subs
from bot.services.digest import build_digest
from bot.services.members import COPY_MEMBERS, refresh_members
from bot.services.prompts import BY_KEY, PROMPTS, prompt_for_channel
from bot.services.subscriptions import DeliveryView
from bot.settings import ConfigError, Settings
from bot.slack.client import NotInstalled, make_clients
from bot.slack.directory import Directory
from bot.slack.errors import TOKEN_REFUSED
from bot.slack.links import workspace_url

CLI_WAIT_SECONDS = 300  # how long `--post` waits for retries (429s, 5xx) before leaving it to the worker


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
                group = managers_group(db, client, team_id)

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
    refused = run_here(db, clients, job_id, HANDLERS)
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
        run_here(db, clients, job_id, {COPY_MEMBERS: copy_members})


def run_here(db: Database, clients: Any, job_id: int, handlers: Mapping[str, Handler]) -> str | None:
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
    return error == TOKEN_REFRESH_FAILED or (error or "").removeprefix("slack error ") in TOKEN_REFUSED
