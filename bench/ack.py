"""/aiwin ack benchmark: `aiwins serve` (defaults: SQLite, in-process worker) against a bare Bolt
app in the same run, 3,000 unique signed commands each over 8 keep-alive connections.

Reports throughput, p50/p99 ack latency, time until every win is stored and celebrated in the
sandbox, and the server's peak RSS. Run: `python bench/ack.py [--requests 3000]`."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.parse
import urllib.request
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
    sandbox_count,
    save,
    start_sandbox,
    wait_http,
)
from bot.sandbox.requests import sign  # noqa: E402

TEAM = "T0AB12CD3EF"
TEXTS = [
    "<@U02ABCDEF|alice> drafted the Q3 board memo with ChatGPT, saved 3h #reporting",
    "cut test triage from 2h to 20m with Copilot",
    "summarised 40 customer interviews with Claude, saved 5 hours #research",
    "wrote the onboarding FAQ using Gemini, 45m saved",
]


AUTHORS = 500
MENTIONED = ("U02ABCDEF", "alice")  # the person TEXTS[0] names


def sandbox_with_people() -> tuple[Proc, str]:
    """A sandbox that knows the people the load names (the authors and alice), as a real workspace does: an
    unknown person would send every such win down the "left out" path instead of the celebration."""
    sandbox, api_url = start_sandbox()
    people = [{"user_id": f"U{i:08d}", "name": f"bench{i}"} for i in range(AUTHORS)]
    people.append({"user_id": MENTIONED[0], "name": MENTIONED[1]})
    base = api_url.rsplit("/api/", 1)[0]
    req = urllib.request.Request(f"{base}/_sandbox/users", data=json.dumps(people).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        r.read()
    return sandbox, api_url


def command_requests(secret: str, n: int, channels: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    ts = str(int(time.time()))
    for i in range(n):
        fields = {
            "token": "x", "team_id": TEAM, "team_domain": "acme", "channel_id": f"C{tag}{i % channels:06d}",
            "channel_name": "bench", "user_id": f"U{i % AUTHORS:08d}", "user_name": "bench", "command": "/aiwin",
            "text": f"{TEXTS[i % len(TEXTS)]} (run {tag} #{i})", "api_app_id": "A07AIWIN9QZ",
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/unused", "trigger_id": f"{tag}.{i}.{new_secret()}",
        }
        body = urllib.parse.urlencode(fields).encode()
        out.append((body, {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": sign(secret, ts, body)}))
    return out


def bench_target(name: str, args_: list[str], env: dict[str, str], port: int, secret: str, n: int,
                 channels: int, api_url: str, celebrate: bool, cwd: str | None = None,
                 more: list[tuple[list[str], int | None]] = ()) -> dict:
    """Start `args_` on `port` (and the `more` processes: (args, port or None)), send the load over every
    port, and with `celebrate` wait until each win is posted in the sandbox."""
    procs = [Proc(args_, env, **({"cwd": cwd} if cwd else {}))]
    procs += [Proc(a, {**env, **({"PORT": str(p)} if p else {})}) for a, p in more]
    ports = [port] + [p for _, p in more if p]
    for proc in procs:
        proc.drain()
    for p in ports:
        try:
            wait_http(f"http://127.0.0.1:{p}/healthz" if celebrate else f"http://127.0.0.1:{p}/", 60)
        except Exception:
            if not celebrate:  # bare Bolt answers 404 on /, which urlopen raises: it is up
                pass
    warm = command_requests(secret, 50, 5, name[:2].upper() + "W")
    run_load(ports, warm, 8)
    load = run_load(ports, command_requests(secret, n, channels, name[:2].upper()), 8)
    result = {"target": name, **load.summary()}
    if celebrate:
        t0 = time.perf_counter()
        deadline = t0 + 120
        # Only this target posts: every win of the warm-up and of the run must be celebrated.
        while sandbox_count(api_url, "chat.postMessage") < n + len(warm) and time.perf_counter() < deadline:
            time.sleep(0.25)
        done = sandbox_count(api_url, "chat.postMessage") - len(warm)
        result["celebrated"] = done
        result["all_celebrated_s_after_load"] = round(time.perf_counter() - t0, 1)
    result["peak_rss_mb"] = round(max(p.peak_rss_mb() for p in procs), 1)
    for p in procs:
        p.stop()
    return result


def fresh_postgres(server_url: str, name: str) -> str:
    """An empty database `name` on that PostgreSQL server (dropped first if it exists); its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--channels", type=int, default=300,
                        help="spread over this many channels (Slack allows ~1 post/s per channel)")
    parser.add_argument("--baseline-tree", help="also run `aiwins serve` from this source tree (e.g. an older "
                        "commit unpacked with `git archive REV | tar -x -C DIR`), in the same run")
    parser.add_argument("--postgres-url", help="also run the PostgreSQL topology: 2 `aiwins serve --no-scheduler "
                        "--no-worker` replicas and an `aiwins worker` (a fresh database on this server)")
    args = parser.parse_args()
    sandbox, api_url = sandbox_with_people()
    secret = new_secret()
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base_env = {"SLACK_BOT_TOKEN": "xoxb-sandbox", "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": api_url,
                        "LOG_LEVEL": "WARNING", "AIWINS_RATE_BURST": "10000"}  # one sender: no per-person limit
            for name, pbr in (("bare Bolt (default runner)", False), ("bare Bolt (process_before_response)", True)):
                port = free_port()
                cmd = [PY, "bench/bare_bolt.py", "--port", str(port)] + (["--process-before-response"] if pbr else [])
                results.append(bench_target(name, cmd, base_env, port, secret, args.requests, args.channels,
                                            api_url, celebrate=False))
            port = free_port()
            results.append(bench_target("bare Bolt AsyncApp (uvicorn)",
                                        [PY, "bench/bare_bolt_async.py", "--port", str(port)], base_env, port,
                                        secret, args.requests, args.channels, api_url, celebrate=False))
            port = free_port()
            if args.baseline_tree:
                base_port = free_port()
                base = {**base_env, "DATABASE_URL": f"sqlite:///{tmp}/baseline.db", "PORT": str(base_port),
                        "PYTHONPATH": args.baseline_tree}
                results.append(bench_target("aiwins serve, baseline tree", [PY, "-m", "bot", "serve", "--host",
                                            "127.0.0.1"], base, base_port, secret, args.requests, args.channels,
                                            api_url, celebrate=True, cwd=args.baseline_tree))
                sandbox.stop()  # a fresh sandbox: the next target counts its own celebrations
                sandbox, api_url = sandbox_with_people()
                base_env["SLACK_API_URL"] = api_url
            env = {**base_env, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "PORT": str(port)}
            results.append(bench_target("aiwins serve (SQLite)", [PY, "-m", "bot", "serve", "--host", "127.0.0.1"],
                                        env, port, secret, args.requests, args.channels, api_url, celebrate=True))
            if args.postgres_url:
                sandbox.stop()  # a fresh sandbox: this target counts its own celebrations
                sandbox, api_url = sandbox_with_people()
                url = fresh_postgres(args.postgres_url, "aiwins_bench_ack")
                env = {**base_env, "SLACK_API_URL": api_url, "DATABASE_URL": url}
                Proc([PY, "-m", "bot", "migrate"], env).p.wait(120)
                serve = [PY, "-m", "bot", "serve", "--host", "127.0.0.1", "--no-scheduler", "--no-worker"]
                port, port2 = free_port(), free_port()
                results.append(bench_target("aiwins ×2 + worker (PostgreSQL)", serve, {**env, "PORT": str(port)},
                                            port, secret, args.requests, args.channels, api_url, celebrate=True,
                                            more=[(serve, port2), ([PY, "-m", "bot", "worker"], None)]))
    finally:
        sandbox.stop()
    print_ack_table(results)
    pbr, aio = results[1], results[2]
    for ours in results[3:]:
        print(f"{ours['target']}: {ours['req_per_s'] / pbr['req_per_s']:.2f}x bare Bolt process_before_response, "
              f"{ours['req_per_s'] / aio['req_per_s']:.2f}x AsyncApp on uvicorn; celebrated {ours.get('celebrated')} "
              f"of {args.requests} (+50 warm-up), all done {ours.get('all_celebrated_s_after_load')} s after the "
              f"load ended; p99 {ours['p99_ms']} ms; non-200: {ours['non_200']}")
    save("ack", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
