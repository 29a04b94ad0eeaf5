"""App Home and export at scale, on SQLite and PostgreSQL, in the same run as small baselines.

- App Home: build the data and the view for a user with 10,000 wins in a workspace of 1,000,000,
  against a user of a 1,000-win workspace.
- Export: `aiwins export --team T` of the 1,000,000-win workspace as a real process writing CSV
  to a file, with its peak RSS, against the same for the 1,000-win workspace.

Run: `python bench/home.py` (seeds like bench/digest.py, reusing its databases)."""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PY, ROOT, machine, save, timed  # noqa: E402
from bench.seed import BIG, HEAVY_USER, SMALL, WEEK_START, seeded  # noqa: E402
from bot.blocks.home import home_view  # noqa: E402
from bot.services.home import build_home  # noqa: E402

# As at the end of the seeded week: the seed spreads that week's wins over all seven days, and a real
# workspace has no wins after "now" (measured at the wall clock, the rest of the week would be future wins).
AT = WEEK_START + timedelta(days=7, minutes=-1)


def time_home(db, team: str, user: str, repeat: int) -> tuple[float, float, int]:  # noqa: ANN001
    def one() -> int:
        with db.read(team) as session:
            data = build_home(session, team, user, is_admin=True, now=AT)
        return len(home_view(data)["blocks"])

    return timed(one, repeat)


def time_export(url: str, team: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".csv") as out:
        t0 = time.perf_counter()
        # /usr/bin/time would be simpler but is not everywhere; read VmHWM from the child instead. Not
        # getrusage's ru_maxrss: Linux carries it over exec from the forked copy of this (large) process.
        proc = subprocess.Popen([PY, "-c", (
            "import sys; from bot.cli import main; rc = main(sys.argv[1:]); "
            "hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')); "
            "sys.stderr.write(f'PEAK_RSS_KB={hwm}\\n'); "
            "raise SystemExit(rc)"), "export", "--team", team],
            stdout=out, stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "DATABASE_URL": url})
        _, err = proc.communicate()
        seconds = time.perf_counter() - t0
        with open(out.name, encoding="utf-8", newline="") as f:
            rows = sum(1 for _ in csv.reader(f)) - 1
        size_mb = Path(out.name).stat().st_size / 1e6
    peak = next((int(line.split("=")[1]) for line in err.splitlines() if line.startswith("PEAK_RSS_KB=")), -1)
    return {"seconds": round(seconds, 1), "rows": rows, "csv_mb": round(size_mb, 1),
            "peak_rss_mb": round(peak / 1024, 1), "exit": proc.returncode}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    for backend, url, db in seeded(args.only):
        big = time_home(db, BIG, HEAVY_USER, args.repeat)
        small = time_home(db, SMALL, "U00000001", args.repeat)
        db.dispose()
        results.append({
            "backend": backend,
            "home_1M_heavy_user": {"median_ms": round(big[0], 1), "max_ms": round(big[1], 1), "blocks": big[2]},
            "home_1k": {"median_ms": round(small[0], 1), "max_ms": round(small[1], 1), "blocks": small[2]},
            "export_1M": time_export(url, BIG),
            "export_1k": time_export(url, SMALL),
        })
    print(f"\nmachine: {machine()}")
    for r in results:
        h, s, e, e1 = r["home_1M_heavy_user"], r["home_1k"], r["export_1M"], r["export_1k"]
        print(f"{r['backend']:10} App Home: 10k-win user in 1M workspace {h['median_ms']:6.1f} ms (max {h['max_ms']}, "
              f"{h['blocks']} blocks) | user in 1k workspace {s['median_ms']:6.1f} ms")
        print(f"{'':10} export: 1M wins {e['seconds']} s, {e['rows']:,} rows, {e['csv_mb']} MB, peak RSS "
              f"{e['peak_rss_mb']} MB | 1k wins {e1['seconds']} s, peak RSS {e1['peak_rss_mb']} MB")
    save("home", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
