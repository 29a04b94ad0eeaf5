"""Adoption figures and the monthly report's data at scale, against a small workspace in the same run.

- BIG: 10,000 members and 1,000,000 wins over five years (bench/seed.py); SMALL: 100 members, 1,000 wins.
- `/aiwin adoption` data (adoption_figures) and the report data (build_report: this month, last month,
  team coverage, actions), median after warm-up; the chart's rendering time (in-process, after the first
  import) and the peak RSS of a process that imported the app and drew one chart.

Run: `python bench/adoption.py [--only sqlite|postgresql]` (seeds like bench/home.py, reusing its databases)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.common import PY, ROOT, machine, save, timed  # noqa: E402
from bench.seed import BIG, SMALL, WEEK_START, seeded  # noqa: E402
from bot.models import Member, Workspace  # noqa: E402
from bot.services.adoption import adoption_figures  # noqa: E402
from bot.services.report import build_report  # noqa: E402

AT = WEEK_START + timedelta(days=7, minutes=-1)  # as bench/home.py: the end of the seeded week
MONTH = "2026-10"


def ensure_members(db, team: str, count: int) -> None:  # noqa: ANN001
    """The seed's owners are U00000000…U00001999; members are those and more, up to `count`."""
    with db.session(team) as s:
        have = s.scalar(select(func.count()).select_from(Member).where(Member.team_id == team))
        if have != count:
            s.execute(Member.__table__.delete().where(Member.team_id == team))
            s.execute(Member.__table__.insert(), [
                {"team_id": team, "user_id": f"U{i:08d}", "name": f"user{i}", "tz": "Europe/Paris",
                 "is_admin": i < 5, "is_owner": False, "is_bot": False, "deleted": False, "is_guest": False,
                 "fetched_at": datetime.now(UTC)} for i in range(count)])
        s.execute(Workspace.__table__.update().where(Workspace.team_id == team)
                  .values(members_synced_at=datetime.now(UTC)))


def time_figures(db, team: str, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    def one() -> int:
        with db.read(team) as s:
            return adoption_figures(s, team, manager_ids=(), now=AT).members
    return timed(one, repeat)[:2]


def time_report(db, team: str, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    def one() -> int:
        with db.read(team) as s:
            return len(build_report(s, team, MONTH, now=AT).actions)
    return timed(one, repeat)[:2]


def chart_and_rss() -> dict[str, float]:
    code = ("import resource, time\nimport bot.app  # the app, as serve loads it\n"
            "from datetime import date, timedelta\nfrom bot.services.chart import trend_png\n"
            "w = [date(2026, 9, 7) + timedelta(weeks=i) for i in range(12)]\n"
            "t = time.perf_counter(); trend_png(w, list(range(12)), 40, title='x'); first = time.perf_counter() - t\n"
            "ts = []\nfor _ in range(10):\n    t = time.perf_counter(); trend_png(w, list(range(12)), 40, title='x')\n"
            "    ts.append(time.perf_counter() - t)\n"
            "ts.sort(); print(first * 1000, ts[5] * 1000, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    return {"first_ms": round(float(out[0]), 1), "median_ms": round(float(out[1]), 1),
            "peak_rss_mb": round(float(out[2]), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    for backend, _url, db in seeded(args.only):
        ensure_members(db, BIG, 10_000)
        ensure_members(db, SMALL, 100)
        big_f, small_f = time_figures(db, BIG, args.repeat), time_figures(db, SMALL, args.repeat)
        big_r, small_r = time_report(db, BIG, args.repeat), time_report(db, SMALL, args.repeat)
        db.dispose()
        results.append({"backend": backend,
                        "adoption_10k_members_1M": {"median_ms": round(big_f[0], 1), "max_ms": round(big_f[1], 1)},
                        "adoption_100_members_1k": {"median_ms": round(small_f[0], 1)},
                        "report_10k_members_1M": {"median_ms": round(big_r[0], 1), "max_ms": round(big_r[1], 1)},
                        "report_100_members_1k": {"median_ms": round(small_r[0], 1)}})
    chart = chart_and_rss()
    print(f"\nmachine: {machine()}")
    for r in results:
        a, a1, p, p1 = (r["adoption_10k_members_1M"], r["adoption_100_members_1k"], r["report_10k_members_1M"],
                        r["report_100_members_1k"])
        print(f"{r['backend']:10} /aiwin adoption data: 10k members, 1M wins {a['median_ms']:6.1f} ms "
              f"(x{a['median_ms'] / max(a1['median_ms'], 0.01):.1f} of 100 members, 1k wins: {a1['median_ms']} ms)")
        print(f"{'':10} report data:          10k members, 1M wins {p['median_ms']:6.1f} ms "
              f"(x{p['median_ms'] / max(p1['median_ms'], 0.01):.1f} of 100 members, 1k wins: {p1['median_ms']} ms)")
    print(f"chart: first {chart['first_ms']} ms (imports matplotlib), then {chart['median_ms']} ms; "
          f"peak RSS of the app with the chart library loaded {chart['peak_rss_mb']} MB")
    save("adoption", {"machine": machine(), "results": results, "chart": chart})


if __name__ == "__main__":
    main()
