"""Digest scale benchmark: one digest on a workspace of 1,000,000 wins over five years (10,000 in
the digest's week), against the same on a workspace of 1,000 wins and on one whose 10,000 wins
are all in that week, in the same run, on SQLite and PostgreSQL. Memory is read as peak RSS.

Run: `python bench/digest.py [--repeat 20]` (the first run seeds, which takes a few minutes)."""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, save, timed  # noqa: E402
from bench.seed import BIG, SAMEWEEK, SMALL, WEEK, seeded  # noqa: E402
from bot.blocks.digest import digest_blocks  # noqa: E402
from bot.services.digest import build_digest  # noqa: E402


def time_digest(db, team: str, repeat: int) -> tuple[float, float, int]:  # noqa: ANN001
    def one() -> int:
        with db.read(team) as session:
            data = build_digest(session, team, WEEK)
        digest_blocks(data)
        return data.wins

    return timed(one, repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    for backend, _url, db in seeded(args.only):
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        row = {"backend": backend}
        for label, team in (("1M wins", BIG), ("1k wins", SMALL), ("10k wins, all this week", SAMEWEEK)):
            median, worst, count = time_digest(db, team, args.repeat)
            row[label] = {"median_ms": round(median, 1), "max_ms": round(worst, 1), "wins_in_week": count}
        row["peak_rss_growth_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before, 1)
        results.append(row)
        db.dispose()
    print(f"\nmachine: {machine()}")
    for r in results:
        big, small, same = r["1M wins"], r["1k wins"], r["10k wins, all this week"]
        print(f"{r['backend']:10}  1M wins: {big['median_ms']:7.1f} ms (max {big['max_ms']:.1f}, "
              f"{big['wins_in_week']} in week) | 1k wins: {small['median_ms']:6.1f} ms | "
              f"10k all in week: {same['median_ms']:6.1f} ms | 1M ÷ same-week: "
              f"{big['median_ms'] / same['median_ms']:.2f}x | RSS growth {r['peak_rss_growth_mb']} MB")
    save("digest", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
