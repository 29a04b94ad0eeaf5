"""`aiwins rollups rebuild`: recompute the roll-ups from the wins and stories themselves."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import select

from bot.services.rollups import rebuild


def cli_rollups(args: argparse.Namespace, settings: Any) -> int:
    """`aiwins rollups rebuild [--team T]`: recompute the roll-ups of one workspace or all of them."""
    from bot.db import Database
    from bot.models import Workspace

    db = Database(settings.database_url, pool_size=2)
    try:
        with db.read() as session:
            known = list(session.scalars(select(Workspace.team_id).order_by(Workspace.team_id)
                                         .execution_options(all_tenants=True)))
        if args.team and args.team not in known:
            print(f"aiwins: no workspace {args.team} in the database (known: {', '.join(known) or 'none'})",
                  file=sys.stderr)
            return 2
        for team_id in [args.team] if args.team else known:
            with db.session(team_id) as session:
                n = rebuild(session, team_id)
            print(f"{team_id}: rebuilt {n} person-weeks")
        return 0
    finally:
        db.dispose()

