"""The AI coach's retrieval at scale: what it reads for one question, on SQLite and PostgreSQL.

A workspace of `--wins` wins (default 1,000,000; bench/search.py's texts: 10 words from a 3,000-word
Zipf vocabulary) and 5,000 "I tried it too" presses in its last 4 weeks. Timed through the real service
(`bot.services.coach`, which goes through search and the one privacy rule), median after warm-up:

* a question in plain words ("How have people here used AI for <common word> <middling word>?"),
* a question about a rare word, and one that finds nothing (then the broader question is worked out),
* "What should I try this week?" (the most-copied practices of the last 4 weeks the asker may see),
* the assistant pane's suggested prompts (this month's top tool and tag, the latest teach-back).

Target: ≤ 50 ms each. Run: `python bench/coach.py [--wins 100000] [--only sqlite|postgresql]`. The seeded
databases are kept (bench/results/coach-<wins>.db, PostgreSQL database aiwins_bench_coach_<wins>) and reused."""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import bot.services.visibility as visibility  # noqa: E402
from bench.common import PG_ADMIN, machine, save, timed  # noqa: E402
from bench.search import CHANNEL, START, WORDS, seed  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import Tried, Win, WinOwner  # noqa: E402
from bot.services import coach  # noqa: E402

TEAM = "TCOACHBIG01"
ASKER = "U0ASKER0001"
TRIES = 5_000
QUESTIONS = {
    "two words": f"How have people here used AI for {WORDS[19]} {WORDS[299]}?",
    "rare word": f"How have people used AI for {WORDS[1999]}?",
    "no match": f"How have people used AI for {WORDS[19]} zzqx?",
}


def ensure_seeded(url: str, n: int) -> tuple[Database, object]:
    if url.startswith("postgresql"):
        name = make_url(url).database
        eng = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
    upgrade(url)
    db = Database(url)
    with db.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Win.__table__)).scalar()
    if have != n:
        started = time.perf_counter()
        with db.engine.begin() as conn:
            for t in (Tried, WinOwner, Win):
                conn.execute(t.__table__.delete())
        seed(db, TEAM, 1, n)
        with db.engine.begin() as conn:
            last = conn.execute(select(func.max(Win.created_at))).scalar()
            rng = random.Random(3)
            recent = conn.execute(select(Win.id).where(Win.created_at >= last - timedelta(weeks=4))).scalars().all()
            rows = {(rng.choice(recent), f"U{rng.randrange(3000):08d}") for _ in range(TRIES)}
            conn.execute(Tried.__table__.insert(), [
                {"team_id": TEAM, "enterprise_id": None, "user_id": u, "win_id": w, "narrative_id": None,
                 "created_at": last - timedelta(minutes=rng.randrange(4 * 7 * 24 * 60))} for w, u in rows])
            if db.dialect == "postgresql":
                conn.execute(text("SELECT setval('wins_id_seq', (SELECT max(id) FROM wins))"))
            else:
                conn.execute(text("INSERT INTO wins_fts(wins_fts) VALUES ('optimize')"))
            conn.execute(text("ANALYZE"))
        print(f"seeded {n:,} wins in {time.perf_counter() - started:.0f} s ({db.dialect})", flush=True)
    with db.engine.connect() as conn:
        now = conn.execute(select(func.max(Win.created_at))).scalar()
    return db, now.replace(tzinfo=START.tzinfo) if now.tzinfo is None else now


def measure(backend: str, db: Database, now: object, wins: int, repeat: int) -> list[dict]:
    results = []
    cases = {label: coach.Intent(coach.ASK, q) for label, q in QUESTIONS.items()}
    cases["what to try"] = coach.Intent(coach.TRY, "What should I try this week?")

    def answer(intent: coach.Intent) -> int:
        with db.read(TEAM) as session:
            return len(coach.answer(session, TEAM, intent, user_id=ASKER, now=now).items)

    def prompts() -> int:
        with db.read(TEAM) as session:
            return len(coach.suggested_prompts(session, TEAM, ASKER, now=now))

    runs = {label: (lambda intent=intent: answer(intent)) for label, intent in cases.items()}
    runs["prompts"] = prompts
    for label, fn in runs.items():
        median, worst, found = timed(fn, repeat, warmup=3)
        results.append({"backend": backend, "wins": wins, "case": label, "median_ms": round(median, 2),
                        "max_ms": round(worst, 1), "items": found})
        print(f"{backend:10} {wins:>9,} {label:12} {median:7.2f} ms (max {worst:.1f}, {found} items)", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wins", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    # As in bench/search.py: the seeded wins predate privacy (`private` NULL); stand in for `private IS
    # false` with a column test of the same cost, so the asker sees them as public ones.
    visibility.shown_in = lambda model, channel_id=None: model.channel_id == CHANNEL
    root = Path(__file__).resolve().parent / "results"
    root.mkdir(exist_ok=True)
    urls = {"sqlite": f"sqlite:///{root / f'coach-{args.wins}.db'}",
            "postgresql": make_url(PG_ADMIN).set(database=f"aiwins_bench_coach_{args.wins}").render_as_string(False)}
    results = []
    for backend, url in urls.items():
        if args.only and backend != args.only:
            continue
        db, now = ensure_seeded(url, args.wins)
        results += measure(backend, db, now, args.wins, args.repeat)
        db.dispose()
    print(f"\nmachine: {machine()}")
    save(f"coach-{args.wins}", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
