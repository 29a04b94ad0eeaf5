"""The monthly leadership report: the scheduler's tick, the DM job, and `aiwins report`.

Once per recipient and month: the claim is a Delivery row (kind "report", channel_id = the
recipient, period = the month reported on), inserted in the transaction that enqueues the DM job,
so schedulers, replicas and `aiwins report --post` runs race for one unique row. Catch-up is the
digests' (bot/jobs/deliveries.py): due within GRACE → sent when the tick next runs; later →
recorded as skipped and logged once.

The chart appears once, inside the report. It is drawn (matplotlib, loaded on first use) and
uploaded *without* a channel: files.completeUploadExternal with `channel_id` would share the file
into the DM as a message of its own, so the manager would see the chart twice. Kept private, it is
the app's own file, which the report's image block may show by `slack_file` (Slack's rule: "the user
posting these blocks must have access to this file"). The file's id is kept in the job's payload as
soon as it exists, so a retried post shows the same upload instead of uploading another.

Slack processes an upload for a moment after completeUploadExternal answers, and refuses an image
block naming it until then ("invalid slack file"): the job then tries again shortly, through the job
queue (no thread waits), for up to CHART_PATIENCE after the upload, and after that sends the report
with its text trend line instead, as it does when drawing or uploading fails."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.blocks.adoption import trend_text
from bot.blocks.render import blocks_to_text
from bot.blocks.report import month_name, report_blocks
from bot.db import Database
from bot.directory import Directory
from bot.jobs.worker import JobContext, Permanent, RetryLater
from bot.models import DELIVERY_CLAIMED, DELIVERY_POSTED, Job, Member, Workspace, utcnow
from bot.models.queue import enqueue, keep_payload
from bot.services import people
from bot.services import subscriptions as subs
from bot.services.chart import trend_png
from bot.services.report import (
    KIND_REPORT,
    Recipient,
    Report,
    build_report,
    last_due,
    month_of,
    parse_month,
    recipients,
)
from bot.services.subscriptions import GRACE
from bot.services.workspaces import still_installed
from bot.settings import ConfigError, Settings
from bot.slack_client import NotInstalled, make_clients

log = logging.getLogger(__name__)

POST_REPORT = "post_report"
CHART_PATIENCE = timedelta(minutes=2)  # after the upload: then the report goes out with its text trend
PERMANENT = {"user_not_found", "account_inactive", "cannot_dm_bot", "invalid_auth", "not_authed",
             "token_revoked", "missing_scope", "channel_not_found", "user_disabled"}


def _in_window(now: datetime) -> bool:
    """Reports fall due on the 1st to 3rd (local), so only the first days of a month (UTC, with room for
    time zones and the grace period) need the recipients worked out."""
    return now.day <= 6 or (now + GRACE).month != now.month


def run_tick(db: Database, *, now: datetime | None = None, group_members: Callable[[str, str | None], Any]
             | None = None, notify: Callable[[], None] | None = None) -> list[int]:
    """Claim every (recipient, month) report that is due, in workspaces the app is installed in.
    Returns the claimed Delivery ids."""
    now = now or utcnow()
    if not _in_window(now):
        return []
    claimed: list[int] = []
    with db.read() as session:
        teams = session.execute(select(Workspace.team_id, Workspace.enterprise_id, Workspace.created_at)
                                .where(still_installed(Workspace.team_id))
                                .execution_options(all_tenants=True)).all()
    for team_id, enterprise_id, since in teams:
        try:
            extra = group_members(team_id, enterprise_id) if group_members else ()
            with db.read(team_id) as session:
                people_ = recipients(session, team_id, extra)
            due = []
            for r in people_:
                at, month = last_due(now, r.tz)
                if at >= since:  # only instants after the app arrived (as digests: after turned on)
                    due.append((r, at, month))
            with db.read() as session:
                known = subs.existing_deliveries(session, [(team_id, KIND_REPORT, r.user_id, m) for r, _, m in due])
            for r, at, month in due:
                if (team_id, KIND_REPORT, r.user_id, month) in known:
                    continue
                if now - at > GRACE:
                    _skip(db, team_id, r, month, at, now)
                    continue
                delivery_id = claim(db, team_id, enterprise_id, r, month, now=now)[0]
                if delivery_id is not None:
                    claimed.append(delivery_id)
        except Exception:
            log.exception("could not plan monthly reports for team %s; the next tick tries again", team_id)
    if claimed and notify is not None:
        notify()
    return claimed


def claim(db: Database, team_id: str, enterprise_id: str | None, r: Recipient, month: str, *,
          now: datetime | None = None, retake: bool = False) -> tuple[int | None, int | None]:
    with db.session(team_id) as session:
        delivery_id = subs.claim_delivery(session, team_id=team_id, kind=KIND_REPORT, channel_id=r.user_id,
                                          period=month, subscription_id=None, now=now, retake=retake)
        if delivery_id is None:
            return None, None
        job_id = enqueue(session, team_id=team_id, enterprise_id=enterprise_id, kind=POST_REPORT,
                         payload={"delivery_id": delivery_id, "user_id": r.user_id, "month": month})
    return delivery_id, job_id


def _skip(db: Database, team_id: str, r: Recipient, month: str, at: datetime, now: datetime) -> None:
    reason = (f"missed: due {at:%Y-%m-%d %H:%M} UTC while the app was down; found "
              f"{(now - at).total_seconds() / 3600:.0f} h later, past the grace window")
    with db.session(team_id) as session:
        done = subs.claim_delivery(session, team_id=team_id, kind=KIND_REPORT, channel_id=r.user_id, period=month,
                                   subscription_id=None, status=subs.DELIVERY_SKIPPED, error=reason, now=now)
    if done is not None:
        log.warning("skipped the %s report for %s (team %s): %s", month, r.user_id, team_id, reason)


def reports_tick(runtime: Any) -> None:
    def group(team_id: str, enterprise_id: str | None) -> frozenset[str]:
        try:
            client = runtime.clients.for_team(team_id, enterprise_id)
            return people.managers_group_members(runtime.db, Directory(client), team_id)
        except Exception:  # the group is a bonus: admins and listed managers still get it
            log.warning("managers group of %s could not be read for the report", team_id, exc_info=True)
            return frozenset()

    run_tick(runtime.db, group_members=group, notify=runtime.worker.notify if runtime.worker else None)


# -- the DM ------------------------------------------------------------------------------------------------


def render(session: Session, team_id: str, month: str, manager_ids: Any, *, chart: bool,
           now: datetime | None = None) -> tuple[Any, bytes | None]:
    report = build_report(session, team_id, month, manager_ids=manager_ids, now=now)
    png = None
    if chart:
        try:
            f = report.figures
            png = trend_png([w.week for w in f.trend], [w.active for w in f.trend], f.members,
                            title=f"Active members, 12 weeks to {month_name(month)}")
        except Exception:
            log.exception("drawing the report chart failed; sending the text trend")
    return report, png


def post_report(ctx: JobContext, job: Job) -> Callable[[Session], None] | None:
    delivery_id, user_id, month = job.payload["delivery_id"], job.payload["user_id"], job.payload["month"]
    with ctx.db.read(job.team_id) as session:
        delivery = subs.get_delivery(session, delivery_id)
        if delivery is None or delivery.status != DELIVERY_CLAIMED:
            return None
    try:
        client = ctx.client(job)
    except NotInstalled as e:
        raise Permanent(str(e)) from e
    directory = Directory(client)
    # Manager-only figures: whether the recipient still is a manager or admin is asked of Slack now (the
    # tick chose them from copies up to a day old), so someone demoted since is not sent them.
    if not people.is_manager(ctx.db, directory, job.team_id, user_id):
        log.info("the %s report is not sent to %s (team %s): no longer a manager or admin", month, user_id,
                 job.team_id)
        return lambda session: subs.mark_skipped(session, delivery_id, "no longer a manager or admin")
    managers = people.managers_group_members(ctx.db, directory, job.team_id)
    payload = dict(job.payload)
    file_id: str | None = payload.get("file_id")
    with ctx.db.read(job.team_id) as session:  # drawn only until it has been uploaded once
        report, png = render(session, job.team_id, month, managers, chart=file_id is None)
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        if file_id is None and png:
            file_id = _upload(client, png, report)
            if file_id:
                payload.update(file_id=file_id, uploaded_at=utcnow().isoformat())
                with ctx.db.session() as session:
                    if not keep_payload(session, job, payload):
                        return None  # another worker holds the job now: it posts
        text, blocks = report_blocks(report, image_file_id=file_id)
        try:
            response = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
        except SlackApiError as e:
            if not file_id or e.response.get("error") != "invalid_blocks":
                raise
            _wait_for_the_chart(e, payload)
            log.warning("Slack refused the report chart (%s); sending the text trend", e.response.get("errors"))
            text, blocks = report_blocks(report, image_file_id=None)
            response = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
    except SlackApiError as e:
        if e.response.get("error") in PERMANENT:
            raise Permanent(str(e.response.get("error"))) from e
        raise
    ts = response["ts"]
    return lambda session: subs.mark_posted(session, delivery_id, ts)


def _upload(client: Any, png: bytes, report: Report) -> str | None:
    """Upload the chart, kept private to the app (no channel), and return its id; None on failure."""
    try:
        result = client.files_upload_v2(content=png, filename=f"ai-adoption-{report.month}.png",
                                        title=f"AI adoption, 12 weeks to {month_name(report.month)}",
                                        alt_txt=trend_text(report.figures).replace("*", "")[:1000])
        return result["files"][0]["id"] if result.get("files") else result["file"]["id"]
    except (SlackApiError, KeyError, IndexError, TypeError) as e:
        log.warning("uploading the report chart failed (%s); sending the text trend", e)
        return None


def _wait_for_the_chart(e: SlackApiError, payload: dict[str, Any]) -> None:
    """Slack refused the image block. When it refused the file itself and the upload is recent,
    Slack is most likely still processing it: try again after a while (growing, as the upload ages).
    Otherwise return, and the report goes out with its text trend."""
    if not any("slack_file" in str(error) for error in e.response.get("errors") or []):
        return
    try:
        waited = (utcnow() - datetime.fromisoformat(payload["uploaded_at"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return
    if waited < CHART_PATIENCE.total_seconds():
        raise RetryLater(min(30.0, max(2.0, waited)), "Slack is still processing the report chart",
                         counts=False) from e


def post_report_gave_up(ctx: JobContext, job: Job) -> None:
    with ctx.db.read() as session:
        row = session.get(Job, job.id)
        reason = (row.last_error if row else None) or "unknown error"
    with ctx.db.session(job.team_id) as session:
        subs.mark_failed(session, job.payload["delivery_id"], reason)
    log.warning("could not send the %s report to %s (team %s): %s", job.payload["month"], job.payload["user_id"],
                job.team_id, reason)


# -- the CLI -----------------------------------------------------------------------------------------------


# The DM job and its give-up note (bot/registry.py lists them; `aiwins report --post` runs them in-process).
HANDLERS = {POST_REPORT: post_report, f"{POST_REPORT}:failed": post_report_gave_up}


def cli_report(args: argparse.Namespace, settings: Settings) -> int:
    """`aiwins report [--team T] [--month 2026-11] [--post]`."""
    from bot.jobs.deliveries import _run_here

    try:
        # Default: the month that ended last (what the first-working-day DM reports on).
        month = parse_month(args.month) if args.month else month_of(utcnow().date().replace(day=1)
                                                                     - timedelta(days=1))
    except ValueError:
        print(f"aiwins: --month must look like 2026-11 (got {args.month!r})", file=sys.stderr)
        return 2
    if args.post and not (settings.slack_bot_token or settings.oauth_enabled):
        raise ConfigError("SLACK_BOT_TOKEN is not set: posting needs it (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)")
    db = Database(settings.database_url, pool_size=2)
    try:
        with db.read() as session:
            known = dict(session.execute(select(Workspace.team_id, Workspace.enterprise_id)
                                         .order_by(Workspace.team_id).execution_options(all_tenants=True)).all())
        if args.team and args.team not in known:
            print(f"aiwins: no workspace {args.team} in the database (known: {', '.join(known) or 'none'})",
                  file=sys.stderr)
            return 2
        if not args.team and len(known) != 1:
            print("aiwins: " + ("no workspace in the database yet" if not known else
                                f"pass --team: the database has {len(known)} workspaces: {', '.join(known)}"),
                  file=sys.stderr)
            return 2
        team_id = args.team or next(iter(known))
        clients = make_clients(settings, db) if args.post else None
        managers: Any = ()
        if clients is not None:
            managers = people.managers_group_members(db, Directory(clients.for_team(team_id, known[team_id])),
                                                     team_id)
        with db.read(team_id) as session:
            report, _ = render(session, team_id, month, managers, chart=False)
            names = {u: n for u, n in session.execute(select(Member.user_id, Member.name))}
            targets = recipients(session, team_id, managers)
        _, blocks = report_blocks(report, image_file_id=None)
        print(f"# Monthly leadership report for {team_id} · {month} ({report.figures.period.first} – "
              f"{report.figures.period.last}, UTC weeks)")
        print(blocks_to_text(blocks, lambda u: names.get(u) or u))
        if clients is None:
            print(f"# recipients: {len(targets)} managers and admins")
            return 0
        code = 0
        for r in targets:
            delivery_id, job_id = claim(db, team_id, known[team_id], r, month, retake=True)
            if delivery_id is None:
                print(f"{r.user_id}: already sent or being sent for {month}; not sending again")
                continue
            assert job_id is not None
            _run_here(db, clients, job_id, HANDLERS)
            with db.read(team_id) as session:
                d = subs.get_delivery(session, delivery_id)
            ok = d is not None and d.status == DELIVERY_POSTED
            print(f"{r.user_id}: {'sent' if ok else 'not sent: ' + str(d.error if d else 'unknown')}")
            code = code if ok else 1
        return code
    finally:
        db.dispose()

