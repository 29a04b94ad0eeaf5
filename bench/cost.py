"""What one `/aiwin` costs: SQL statements and transactions (counted with SQLAlchemy's
`before_cursor_execute` and `commit` events), Slack Web API calls (the sandbox records them), and
bytes stored (PostgreSQL: pg_total_relation_size and pg_column_size deltas; SQLite: file growth).

    python bench/cost.py [--wins 500] [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each win comes from a different person in a different channel (the worst case for App Home
refreshes, which are shared by one person's wins within 30 s). Phase 1 is the ack path (the job
worker is not running); phase 2 is everything the worker does afterwards, until the queue is empty."""

from __future__ import annotations

import argparse
import collections
import os
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import new_secret, save  # noqa: E402
from bot.models import JOB_PENDING, Job  # noqa: E402
from bot.sandbox.fake_slack import FakeSlack  # noqa: E402
from bot.sandbox.requests import SlackSender  # noqa: E402
from bot.server import Server  # noqa: E402
from bot.settings import Settings  # noqa: E402

TEAM = "T0AB12CD3EF"
TABLES = ("wins", "win_owners", "jobs")


class Counter:
    def __init__(self, engine) -> None:  # noqa: ANN001
        self.statements: collections.Counter = collections.Counter()
        self.commits = 0
        self.lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._stmt)
        event.listen(engine, "commit", self._commit)

    def _stmt(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb == "SELECT" and "pg_" in statement:
            return
        with self.lock:
            self.statements[verb] += 1

    def _commit(self, conn) -> None:  # noqa: ANN001
        with self.lock:
            self.commits += 1

    def take(self) -> tuple[dict, int]:
        with self.lock:
            out = (dict(self.statements), self.commits)
            self.statements.clear()
            self.commits = 0
            return out


def sizes(db) -> dict[str, int]:  # noqa: ANN001
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            return {t: conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar() for t in TABLES}
    raw = sqlite3.connect(make_url(db.url).database)  # pages in use, WAL included (not the WAL's size)
    try:
        return {"pages": raw.execute("PRAGMA page_count").fetchone()[0] * raw.execute("PRAGMA page_size").fetchone()[0]}
    finally:
        raw.close()


def pg_cpu(db) -> dict[int, float]:  # noqa: ANN001
    """CPU seconds of this database's PostgreSQL backends (same box; other databases' excluded)."""
    if db.dialect != "postgresql":
        return {}
    with db.engine.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
        out = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                pass
        return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def row_bytes(db) -> dict[str, float]:  # noqa: ANN001
    if db.dialect != "postgresql":
        return {}
    with db.engine.connect() as conn:
        return {t: float(conn.execute(text(f"SELECT avg(pg_column_size(x.*)) FROM {t} x")).scalar() or 0)
                for t in TABLES}


def measure(url: str, n: int) -> dict:
    fake = FakeSlack(team_id=TEAM).start()
    channels = [f"C0COST{i:04d}" for i in range(n)]
    for c in channels:
        fake.add_channel(c, c.lower(), bot_member=True)
    for i in range(n):  # real people: their App Home is republished after their win
        fake.add_user(f"U{i:08d}", f"person{i}")
    fake.add_user("UWARM0001", "warm")
    secret = new_secret()
    settings = Settings(database_url=url, slack_bot_token=fake.token, slack_signing_secret=secret,
                        slack_api_url=fake.api_url, port=0)
    server = Server(settings, host="127.0.0.1", port=0, scheduler=False, poll_interval=0.2)
    db = server.runtime.db
    http = threading.Thread(target=server._run_http, daemon=True)
    http.start()
    sender = SlackSender(server.url, secret, team_id=TEAM, response_url_base=fake.webhook_url("r"))
    sender.command("/aiwin", "warm-up win with Claude, saved 1h", channel_id=channels[0], user_id="UWARM0001")
    counter = Counter(db.engine)
    before = sizes(db)
    cpu0 = pg_cpu(db)
    calls_before = len(fake.calls())
    for i in range(n):
        r = sender.command("/aiwin", f"drafted the memo {i} with ChatGPT, saved 45m #ops", channel_id=channels[i],
                           user_id=f"U{i:08d}")
        assert r.status == 200, r.text
    ack_statements, ack_commits = counter.take()
    cpu1 = pg_cpu(db)
    server.runtime.worker.start()

    def pending() -> int:
        with db.read() as s:
            return s.scalar(select(func.count()).select_from(Job).where(Job.status == JOB_PENDING))

    deadline = time.monotonic() + 180
    while pending() and time.monotonic() < deadline:  # home refreshes wait for their 30 s window
        time.sleep(0.5)
    job_statements, job_commits = counter.take()
    cpu2 = pg_cpu(db)
    after = sizes(db)
    calls = collections.Counter(c.method for c in fake.calls()[calls_before:])
    result = {
        "database": db.dialect, "wins": n,
        "ack_statements_per_win": {k: round(v / n, 2) for k, v in ack_statements.items()},
        "ack_transactions_per_win": round(ack_commits / n, 2),
        "job_statements_per_win": {k: round(v / n, 2) for k, v in job_statements.items()},
        "job_transactions_per_win": round(job_commits / n, 2),
        "slack_calls_per_win": {k: round(v / n, 2) for k, v in calls.items()},
        "bytes_per_win": {k: round((after[k] - before[k]) / n) for k in after},
        "avg_row_bytes": row_bytes(db),
        "left_pending": pending(),
        "postgres_cpu_ms_per_win": {"ack": round(cpu_delta(cpu0, cpu1) / n * 1000, 3),
                                    "jobs": round(cpu_delta(cpu1, cpu2) / n * 1000, 3)} if cpu0 else None,
    }
    sender.close()
    server.stop()
    fake.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wins", type=int, default=500)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure(f"sqlite:///{tmp}/cost.db", args.wins))
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    name = f"aiwins_cost_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        results.append(measure(make_url(args.postgres_url).set(database=name).render_as_string(False), args.wins))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for r in results:
        print(r)
    save("cost", {"results": results})


if __name__ == "__main__":
    main()
