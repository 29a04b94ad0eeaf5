"""`aiwins export`: a workspace's wins as CSV on standard output."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime
from typing import Any

from bot.services.export import write_wins


def parse_since(raw: str | None) -> datetime | None:
    """`2026-01-31` → midnight UTC that day; ValueError for anything else."""
    if not raw:
        return None
    d = date.fromisoformat(raw.strip())
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


EXPORT_CACHE_KIB = 2048  # SQLite's page cache for `aiwins export` (the app's connections keep 16 MiB)


def cli_export(args: argparse.Namespace, settings: Any) -> int:
    """`aiwins export --team T [--since DATE]`: the workspace's wins as CSV on standard output."""
    from bot.db import Database

    try:
        since = parse_since(args.since)
    except ValueError:
        print(f"aiwins: --since must be a date like 2026-01-31, not {args.since!r}", file=sys.stderr)
        return 2
    db = Database(settings.database_url, pool_size=1)
    try:
        with db.read(args.team) as session:
            if db.dialect == "sqlite":  # one pass over the rows: a big page cache holds nothing read twice
                session.connection().exec_driver_sql(f"PRAGMA cache_size=-{EXPORT_CACHE_KIB}")
            rows = write_wins(session, sys.stdout, args.team, since=since)
        sys.stdout.flush()
        if not rows:  # a header alone: say so, in case the team id has a typo
            print(f"aiwins: no wins for team {args.team!r}" + (" since then" if since else ""), file=sys.stderr)
    except BrokenPipeError:  # `aiwins export … | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        db.dispose()
    return 0
