"""Builds big workspaces for the scale benchmarks, fast (Core executemany in chunks).

Workspace BIG: 1,000,000 wins over five years, 10,000 of them in the digest's week, one heavy
user owning 10,000. SMALL: 1,000 wins (4 in the week, as the same share of a five-year history
would be). WEEK: 10,000 wins, all in the digest's week (a short history with the big week).
Seeded databases are kept between runs (a SQLite file under bench/results/, a PostgreSQL
database named aiwins_bench) and reused when they already hold the rows."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import PG_ADMIN  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import ActivityWeek, Win, WinOwner  # noqa: E402
from bot.services.rollups import rebuild  # noqa: E402
from bot.services.wintext import KNOWN_TOOLS  # noqa: E402
from bot.services.workspaces import ensure_workspace  # noqa: E402

WEEK = "2026-W48"
WEEK_START = datetime(2026, 11, 23, tzinfo=UTC)
BIG, SMALL, SAMEWEEK = "TBIG0000001", "TSMALL00001", "TWEEK000001"
HEAVY_USER = "UHEAVY00001"
CATEGORIES = ["customers", "strategy", "learning", "quality", "creative", "rest", None, None]


def _rows(team: str, first_id: int, n: int, in_week: int, heavy: int, rng: random.Random):
    history = timedelta(days=5 * 365).total_seconds()
    for i in range(n):
        if i < in_week:
            at = WEEK_START + timedelta(seconds=rng.random() * 7 * 86400 - 1)
        else:
            at = WEEK_START - timedelta(seconds=1 + rng.random() * history)
        owner = HEAVY_USER if i % (n // heavy if heavy else n + 1) == 0 and heavy else f"U{rng.randrange(2000):08d}"
        win_id = first_id + i
        yield (
            {"id": win_id, "team_id": team, "enterprise_id": None, "author_id": owner, "channel_id": "C0BENCH001",
             "text": f"won #{i} with AI, saved {1 + i % 180}m", "text_format": "wire", "how": None,
             "tool": KNOWN_TOOLS[i % 7], "minutes_saved": 1 + i % 180, "reinvested_in": CATEGORIES[i % 8],
             "tags": "", "source": "command", "trigger_id": None, "post_status": "posted",
             "message_channel": "C0BENCH001", "message_ts": f"{1_700_000_000 + i}.000100", "reinvest_asked_at": None,
             "created_at": at, "updated_at": at},
            {"win_id": win_id, "team_id": team, "user_id": owner, "position": 0, "created_at": at},
        )


def seed_team(db: Database, team: str, first_id: int, n: int, in_week: int, heavy: int = 0) -> None:
    rng = random.Random(team)
    chunk_w, chunk_o = [], []
    with db.engine.begin() as conn:
        for w, o in _rows(team, first_id, n, in_week, heavy, rng):
            chunk_w.append(w)
            chunk_o.append(o)
            if len(chunk_w) == 20_000:
                conn.execute(Win.__table__.insert(), chunk_w)
                conn.execute(WinOwner.__table__.insert(), chunk_o)
                chunk_w, chunk_o = [], []
        if chunk_w:
            conn.execute(Win.__table__.insert(), chunk_w)
            conn.execute(WinOwner.__table__.insert(), chunk_o)


def bench_urls(pg_admin: str) -> dict[str, str]:
    root = Path(__file__).resolve().parent / "results"
    root.mkdir(exist_ok=True)
    admin = make_url(pg_admin)
    return {"sqlite": f"sqlite:///{root / 'seed-1m.db'}",
            "postgresql": admin.set(database="aiwins_bench").render_as_string(hide_password=False)}


def seeded(only: str | None) -> Iterator[tuple[str, str, Database]]:
    """(backend, url, database) for each benchmark database, seeded on first use; only the backend
    `--only` names when it names one."""
    for backend, url in bench_urls(PG_ADMIN).items():
        if only in (None, backend):
            yield backend, url, ensure_seeded(url, PG_ADMIN)


def ensure_seeded(url: str, pg_admin: str | None = None, *, big: int = 1_000_000) -> Database:
    if url.startswith("postgresql") and pg_admin:
        eng = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname='aiwins_bench'")).scalar():
                conn.execute(text('CREATE DATABASE "aiwins_bench"'))
        eng.dispose()
    upgrade(url)
    db = Database(url)
    with db.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Win.__table__)).scalar()
    want = big + 1_000 + 10_000
    if have != want:
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(WinOwner.__table__.delete())
            conn.execute(Win.__table__.delete())
        seed_team(db, BIG, 1, big, 10_000, heavy=10_000)
        seed_team(db, SMALL, big + 1, 1_000, 4)
        seed_team(db, SAMEWEEK, big + 1_001, 10_000, 10_000)
        with db.engine.begin() as conn:
            if db.dialect == "postgresql":
                conn.execute(text("SELECT setval('wins_id_seq', (SELECT max(id) FROM wins))"))
                conn.execute(text("ANALYZE"))
            else:
                conn.execute(text("ANALYZE"))
        print(f"seeded {want:,} wins in {time.perf_counter() - started:.0f} s ({db.dialect})", flush=True)
    with db.session() as session:
        for team in (BIG, SMALL, SAMEWEEK):
            ensure_workspace(session, team, None)
    # The rows above were written behind the services' back: roll them up once (as an operator's
    # `aiwins rollups rebuild` would), and again whenever the wins were re-seeded.
    rebuilt = False
    for team in (BIG, SMALL, SAMEWEEK):
        with db.session(team) as session:
            rolled = session.scalar(select(func.count()).select_from(ActivityWeek.__table__)
                                    .where(ActivityWeek.team_id == team))
            if not rolled or have != want:
                started = time.perf_counter()
                rebuild(session, team)
                rebuilt = True
                print(f"rolled up {team} in {time.perf_counter() - started:.0f} s ({db.dialect})", flush=True)
    if rebuilt:  # statistics (and PostgreSQL's visibility map, for index-only scans) of the new roll-ups
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if db.dialect == "postgresql" else "ANALYZE"))
    return db
