"""reaction_added ack benchmark: `aiwins serve` (SQLite; every event written to the durable
queue with event_id deduplication before the ack) against a bare Bolt app in the same run.
3,000 unique signed events plus 300 redeliveries of them (X-Slack-Retry-Num: 1) over 8
keep-alive connections. Run: `python bench/reaction.py`."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PY,
    Proc,
    free_port,
    machine,
    new_secret,
    print_ack_table,
    run_load,
    save,
    start_sandbox,
    wait_http,
)
from bot.sandbox.requests import sign  # noqa: E402

TEAM = "T0AB12CD3EF"


def event_requests(secret: str, n: int, retries: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    ts = str(int(time.time()))
    out = []
    for i in range(n + retries):
        k = i if i < n else i - n  # the last `retries` requests redeliver earlier events
        body = json.dumps({
            "token": "x", "team_id": TEAM, "api_app_id": "A07AIWIN9QZ", "type": "event_callback",
            "event_id": f"Ev{tag}{k:08d}", "event_time": int(ts),
            "event": {"type": "reaction_added", "user": f"U{k % 300:08d}", "reaction": "mortar_board",
                      "item": {"type": "message", "channel": "C05RPT12345", "ts": f"1784812290.{k:06d}"},
                      "item_user": "U02ABCDEF", "event_ts": f"{ts}.{k:06d}"},
            "authorizations": [{"team_id": TEAM, "user_id": "U07AIWINBOT", "is_bot": True,
                                "is_enterprise_install": False}],
        }).encode()
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": sign(secret, ts, body)}
        if i >= n:
            headers.update({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        out.append((body, headers))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    retries = args.events // 10
    sandbox, api_url = start_sandbox()
    secret = new_secret()
    env = {"SLACK_BOT_TOKEN": "xoxb-sandbox", "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": api_url,
           "LOG_LEVEL": "WARNING", "AIWINS_RATE_BURST": "10000"}  # one sender: no per-person limit
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            targets = [
                ("bare Bolt (default runner)", [PY, "bench/bare_bolt.py"], {}),
                ("bare Bolt (process_before_response)", [PY, "bench/bare_bolt.py", "--process-before-response"], {}),
                ("aiwins serve (SQLite, dedupe on)", [PY, "-m", "bot", "serve", "--host", "127.0.0.1"],
                 {"DATABASE_URL": f"sqlite:///{tmp}/bench.db"}),
            ]
            for i, (name, cmd, extra) in enumerate(targets):
                port = free_port()
                is_ours = "aiwins" in name
                proc = Proc(cmd + ([] if is_ours else ["--port", str(port)]), {**env, **extra, "PORT": str(port)})
                proc.drain()
                wait_http(f"http://127.0.0.1:{port}/healthz", 60) if is_ours else time.sleep(1.5)
                run_load(port, event_requests(secret, 100, 0, f"W{i}"), 8)  # warm-up
                load = run_load(port, event_requests(secret, args.events, retries, f"R{i}"), 8)
                result = {"target": name, **load.summary(), "peak_rss_mb": round(proc.peak_rss_mb(), 1)}
                proc.stop()
                if is_ours:
                    db = sqlite3.connect(f"{tmp}/bench.db")
                    result["queued_events"] = db.execute(
                        "SELECT count(*) FROM jobs WHERE kind='reaction_added' AND dedupe_key LIKE ?",
                        (f"event:Ev{'R' + str(i)}%",)).fetchone()[0]
                    db.close()
                results.append(result)
    finally:
        sandbox.stop()
    print_ack_table(results)
    ours = results[-1]
    print(f"{args.events} unique events + {retries} redeliveries → {ours['queued_events']} queued "
          f"(exactly one per event_id); non-200: {ours['non_200']}")
    save("reaction", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
