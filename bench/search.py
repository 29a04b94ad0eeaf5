"""`/aiwin search` at scale, on SQLite (FTS5) and PostgreSQL (GIN), in the same run as a small baseline.

A workspace of 1,000,000 wins and one of 1,000, in one database (as in production: one index for
all workspaces). Win texts are 10 words drawn from a 3,000-word vocabulary with Zipf frequencies,
so query words have realistic selectivity: a common word (rank 20, in ~5 % of wins), a middling one
(rank 300, ~0.4 %), a rare one (rank 2,000, ~0.06 %) and two words together. Each search goes
through the real service (parse, rank, filters, visibility) and is timed as the median after
warm-up. Targets: ≤ 50 ms on the 1M workspace, and within 3× of the same search on the 1k one.

Run: `python bench/search.py [--only sqlite|postgresql]`. The seeded databases are kept
(bench/results/search-1m.db, PostgreSQL database aiwins_bench_search) and reused.

`python bench/search.py --people`: on PostgreSQL, a 50,000-win workspace where each win is for one to
three of 2,000 people; a plain search against searches naming one and MAX_PEOPLE `@people` (with and
without a word), in the same run, through the service; and the same searches with the people filter
as it was before it was bounded (one OR-and-EXISTS condition per person), at MAX_PEOPLE and at 40
people (what fits the App Home box). Database aiwins_bench_people, kept and reused."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import bot.services.search as search_service  # noqa: E402
import bot.services.visibility as visibility  # noqa: E402
from bench.common import PG_ADMIN, machine, save, timed  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import Win, WinOwner  # noqa: E402
from bot.services.wintext import KNOWN_TOOLS  # noqa: E402

BIG, SMALL = "TSRCHBIG001", "TSRCHSMALL1"
N_BIG, N_SMALL = 1_000_000, 1_000
CHANNEL = "C0BENCH001"
SEARCHER = "U0SEARCHER1"
START = datetime(2021, 11, 23, tzinfo=UTC)
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "de", "pa", "zu", "be", "ko", "li", "ma", "no"]


def vocabulary(n: int = 3000) -> list[str]:
    words = ["".join(p) for p in itertools.product(_SYLLABLES, repeat=3)]
    return random.Random(7).sample(words, n)


WORDS = vocabulary()
QUERIES = {"common word": WORDS[19], "middling word": WORDS[299], "rare word": WORDS[1999],
           "two words": f"{WORDS[19]} {WORDS[299]}"}


def _rows(team: str, first_id: int, n: int):
    rng = random.Random(team)
    weights = list(itertools.accumulate(1 / r for r in range(1, len(WORDS) + 1)))
    span = 5 * 365 * 86400
    for i in range(n):
        at = START + timedelta(seconds=span * i / n)  # ids and time rise together, as in life
        author = f"U{rng.randrange(2000):08d}"
        words = " ".join(rng.choices(WORDS, cum_weights=weights, k=10))
        yield (
            {"id": first_id + i, "team_id": team, "enterprise_id": None, "author_id": author, "channel_id": CHANNEL,
             "text": f"{words} with AI", "text_format": "wire", "how": None, "tool": KNOWN_TOOLS[i % 7],
             "minutes_saved": 1 + i % 180, "reinvested_in": None, "tags": "", "source": "command",
             "trigger_id": None, "post_status": "posted", "message_channel": CHANNEL,
             "message_ts": f"{1_600_000_000 + i}.000100", "reinvest_asked_at": None, "created_at": at,
             "updated_at": at},
            {"win_id": first_id + i, "team_id": team, "user_id": author, "position": 0, "created_at": at},
        )


def seed(db: Database, team: str, first_id: int, n: int) -> None:
    """Bulk inserts (Core executemany, 20,000 rows a statement batch)."""
    wins, owners = [], []
    with db.engine.begin() as conn:
        for w, o in _rows(team, first_id, n):
            wins.append(w)
            owners.append(o)
            if len(wins) == 20_000:
                conn.execute(Win.__table__.insert(), wins)
                conn.execute(WinOwner.__table__.insert(), owners)
                wins, owners = [], []
        if wins:
            conn.execute(Win.__table__.insert(), wins)
            conn.execute(WinOwner.__table__.insert(), owners)


def ensure_seeded(url: str) -> Database:
    if url.startswith("postgresql"):
        eng = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname='aiwins_bench_search'")).scalar():
                conn.execute(text('CREATE DATABASE "aiwins_bench_search"'))
        eng.dispose()
    upgrade(url)
    db = Database(url)
    with db.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Win.__table__)).scalar()
    if have != N_BIG + N_SMALL:
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(WinOwner.__table__.delete())
            conn.execute(Win.__table__.delete())
        seed(db, BIG, 1, N_BIG)
        seed(db, SMALL, N_BIG + 1, N_SMALL)
        with db.engine.begin() as conn:
            if db.dialect == "postgresql":
                conn.execute(text("SELECT setval('wins_id_seq', (SELECT max(id) FROM wins))"))
                conn.execute(text("VACUUM ANALYZE") if False else text("ANALYZE"))
            else:
                conn.execute(text("ANALYZE"))
                conn.execute(text("INSERT INTO wins_fts(wins_fts) VALUES ('optimize')"))
        print(f"seeded {N_BIG + N_SMALL:,} wins in {time.perf_counter() - started:.0f} s ({db.dialect})", flush=True)
    return db


def bench_urls() -> dict[str, str]:
    root = Path(__file__).resolve().parent / "results"
    root.mkdir(exist_ok=True)
    return {"sqlite": f"sqlite:///{root / 'search-1m.db'}",
            "postgresql": make_url(PG_ADMIN).set(database="aiwins_bench_search").render_as_string(False)}


def time_search(db: Database, team: str, query: str, repeat: int) -> tuple[float, float, int]:
    q = search_service.parse_query(query)

    def one() -> int:
        with db.read(team) as session:
            return len(search_service.search(session, team, SEARCHER, q))

    return timed(one, repeat, warmup=3)


def matches(db: Database, team: str, word: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Win.__table__).where(
            Win.team_id == team, Win.text.like(f"%{word}%"))).scalar()


PEOPLE_TEAM, N_PEOPLE_WINS, N_PEOPLE = "TSRCHPPL001", 50_000, 2_000


def person(i: int) -> str:
    return f"U{i:08d}"


def seed_people(db: Database) -> None:
    """50,000 wins, each by one of 2,000 people and for one to three of them (ids and time rise together)."""
    rng = random.Random(PEOPLE_TEAM)
    weights = list(itertools.accumulate(1 / r for r in range(1, len(WORDS) + 1)))
    wins, owners = [], []
    for i in range(N_PEOPLE_WINS):
        at = START + timedelta(seconds=3 * 365 * 86400 * i / N_PEOPLE_WINS)
        author = person(rng.randrange(N_PEOPLE))
        words = " ".join(rng.choices(WORDS, cum_weights=weights, k=10))
        wins.append({"id": i + 1, "team_id": PEOPLE_TEAM, "author_id": author, "channel_id": CHANNEL,
                     "text": f"{words} with AI", "text_format": "wire", "tool": KNOWN_TOOLS[i % 7],
                     "minutes_saved": 1 + i % 180, "tags": "", "source": "command", "post_status": "posted",
                     "message_channel": CHANNEL, "message_ts": f"{1_600_000_000 + i}.000100", "created_at": at,
                     "updated_at": at})
        for pos, who in enumerate(dict.fromkeys(person(rng.randrange(N_PEOPLE)) for _ in range(rng.randint(1, 3)))):
            owners.append({"win_id": i + 1, "team_id": PEOPLE_TEAM, "user_id": who, "position": pos,
                           "created_at": at})
    with db.engine.begin() as conn:
        conn.execute(WinOwner.__table__.delete())
        conn.execute(Win.__table__.delete())
        for k in range(0, len(wins), 20_000):
            conn.execute(Win.__table__.insert(), wins[k:k + 20_000])
        for k in range(0, len(owners), 20_000):
            conn.execute(WinOwner.__table__.insert(), owners[k:k + 20_000])
        conn.execute(text("SELECT setval('wins_id_seq', (SELECT max(id) FROM wins))"))
        conn.execute(text("ANALYZE"))


def people_db() -> Database:
    eng = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname='aiwins_bench_people'")).scalar():
            conn.execute(text('CREATE DATABASE "aiwins_bench_people"'))
    eng.dispose()
    url = make_url(PG_ADMIN).set(database="aiwins_bench_people").render_as_string(False)
    upgrade(url)
    db = Database(url)
    with db.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Win.__table__)).scalar()
    if have != N_PEOPLE_WINS:
        started = time.perf_counter()
        seed_people(db)
        print(f"seeded {N_PEOPLE_WINS:,} wins in {time.perf_counter() - started:.0f} s", flush=True)
    return db


def _as_before(session, team_id, user_id, q):  # noqa: ANN001, ANN202 - the people filter before it was bounded
    from sqlalchemy import exists, or_

    filters = _bounded_filters(session, team_id, user_id, dataclasses.replace(q, people=()))
    owner = select(WinOwner.win_id).where(WinOwner.team_id == team_id, WinOwner.win_id == Win.id)
    return filters + [or_(Win.author_id == p, exists(owner.where(WinOwner.user_id == p))) for p in q.people]


_bounded_filters = search_service._win_filters


def bench_people(repeat: int) -> list[dict]:
    db = people_db()
    rng = random.Random(11)
    named = [person(i) for i in rng.sample(range(N_PEOPLE), 40)]
    most = search_service.MAX_PEOPLE
    cases = [("plain: a common word", WORDS[19], False),
             ("1 @person", f"<@{named[0]}>", False),
             (f"{most} @people", " ".join(f"<@{p}>" for p in named[:most]), False),
             (f"a common word + {most} @people", WORDS[19] + " " + " ".join(f"<@{p}>" for p in named[:most]), False),
             (f"as before: {most} @people", " ".join(f"<@{p}>" for p in named[:most]), True),
             ("as before: 40 @people", " ".join(f"<@{p}>" for p in named), True)]
    results = []
    for label, query, before in cases:
        search_service._win_filters = _as_before if before else _bounded_filters
        try:
            median, worst, hits = time_search(db, PEOPLE_TEAM, query, repeat)
        finally:
            search_service._win_filters = _bounded_filters
        results.append({"search": label, "median_ms": round(median, 2), "max_ms": round(worst, 1), "hits": hits})
        print(f"{label:34} {median:8.2f} ms (max {worst:.1f}, {hits} hits)", flush=True)
    db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--people", action="store_true", help="the @people bench (PostgreSQL, 50k wins)")
    args = parser.parse_args()
    # The seeded wins were stored before their channel's privacy was known (`private` NULL: shown to
    # their people only). Stand in for `private IS false` with a column test of the same cost, so the
    # searcher sees the workspace's wins as public ones (re-seeding 1M rows only to set it costs hours).
    visibility.shown_in = lambda model, channel_id=None: model.channel_id == CHANNEL
    if args.people:
        results = bench_people(args.repeat)
        print(f"\nmachine: {machine()}")
        save("search-people", {"machine": machine(), "results": results})
        return
    results = []
    for backend, url in bench_urls().items():
        if args.only and backend != args.only:
            continue
        db = ensure_seeded(url)
        for label, query in QUERIES.items():
            big = time_search(db, BIG, query, args.repeat)
            small = time_search(db, SMALL, query, args.repeat)
            results.append({
                "backend": backend, "query": label, "words": query,
                "matches_1M": matches(db, BIG, query.split()[-1]) if " " not in query else None,
                "median_ms_1M": round(big[0], 2), "max_ms_1M": round(big[1], 1), "hits_1M": big[2],
                "median_ms_1k": round(small[0], 2), "hits_1k": small[2],
                "ratio": round(big[0] / small[0], 2),
            })
            r = results[-1]
            print(f"{backend:10} {label:14} 1M: {r['median_ms_1M']:7.2f} ms (max {r['max_ms_1M']}, "
                  f"{r['matches_1M'] or '-'} matches) | 1k: {r['median_ms_1k']:6.2f} ms | {r['ratio']:.2f}x",
                  flush=True)
        db.dispose()
    print(f"\nmachine: {machine()}")
    save("search", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
