"""`aiwins report`: print a month's leadership report, and with `--post` send it to each manager and admin
now, through the same job the scheduler queues (run here, in this process)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.blocks.render import blocks_to_text
from bot.blocks.report import report_blocks
from bot.cli.deliveries import run_here
from bot.db import Database
from bot.jobs.report import HANDLERS, claim, render
from bot.models import DELIVERY_POSTED, Member, Workspace, utcnow
from bot.services import people
from bot.services import subscriptions as subs
from bot.services.report import (
    month_of,
    parse_month,
    recipients,
)
from bot.settings import ConfigError, Settings
from bot.slack.client import make_clients
from bot.slack.directory import Directory


def cli_report(args: argparse.Namespace, settings: Settings) -> int:
    """`aiwins report [--team T] [--month 2026-11] [--post]`."""
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
            run_here(db, clients, job_id, HANDLERS)
            with db.read(team_id) as session:
                d = subs.get_delivery(session, delivery_id)
            ok = d is not None and d.status == DELIVERY_POSTED
            print(f"{r.user_id}: {'sent' if ok else 'not sent: ' + str(d.error if d else 'unknown')}")
            code = code if ok else 1
        return code
    finally:
        db.dispose()

