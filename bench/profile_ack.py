"""Where an ack's CPU goes: drive `/aiwin` commands (or `reaction_added` events) straight through
the WSGI app in one thread, no server and no job worker, under cProfile; the same requests
through a bare Bolt app (`process_before_response=True`) give the floor.

    python bench/profile_ack.py [--kind command|reaction] [--requests 2000] [--postgres-url URL] [--top 30]

Prints CPU microseconds per request for both and our hottest functions (own time and
cumulative). The method is committed, not its output: run it on your machine."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ack import command_requests  # noqa: E402
from bench.common import new_secret  # noqa: E402

TEAM = "T0AB12CD3EF"


def reaction_requests(secret: str, n: int) -> list[tuple[bytes, dict[str, str]]]:
    from bot.sandbox.requests import sign

    out = []
    ts = str(int(time.time()))
    for i in range(n):
        body = json.dumps({
            "token": "x", "team_id": TEAM, "api_app_id": "A07AIWIN9QZ", "type": "event_callback",
            "event_id": f"Ev{i:010d}", "event_time": int(time.time()),
            "event": {"type": "reaction_added", "user": f"U{i % 500:08d}", "reaction": "mortar_board",
                      "item_user": "U02ABCDEF", "item": {"type": "message", "channel": "C0BENCH001",
                                                         "ts": f"1700000000.{i:06d}"}, "event_ts": ts},
            "authorizations": [{"team_id": TEAM, "user_id": "U07AIWINBOT", "is_bot": True}],
        }).encode()
        out.append((body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": sign(secret, ts, body)}))
    return out


def fresh_postgres(admin_url: str) -> str:
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"aiwins_profile_{uuid.uuid4().hex[:8]}"
    with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


def environ(body: bytes, headers: dict[str, str]) -> dict:
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "",
           "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": headers["Content-Type"],
           "wsgi.input": io.BytesIO(body), "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "3000",
           "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1"}
    for k, v in headers.items():
        if k != "Content-Type":
            env["HTTP_" + k.upper().replace("-", "_")] = v
    return env


def drive(app, requests) -> float:  # noqa: ANN001
    """CPU seconds for all requests; every answer must be a 200."""
    statuses = []

    def start_response(status, headers, exc_info=None):  # noqa: ANN001, ANN202
        statuses.append(status)

    t0 = time.process_time()
    for body, headers in requests:
        b"".join(app(environ(body, headers), start_response))
    spent = time.process_time() - t0
    bad = [s for s in statuses if not s.startswith("200")]
    assert not bad, bad[:3]
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=("command", "reaction"), default="command")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--postgres-url", help="profile on PostgreSQL: a fresh database is created on this server "
                        "(and dropped); default: a SQLite file")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per request, without cProfile's cost")
    args = parser.parse_args()
    secret = new_secret()
    from bot.sandbox.fake_slack import FakeSlack

    fake = FakeSlack(team_id=TEAM).start()  # Bolt's one auth.test per app
    make = (lambda n, tag: command_requests(secret, n, 300, tag)) if args.kind == "command" else (
        lambda n, tag: reaction_requests(secret, n) if tag == "P" else reaction_requests(secret, n)[::-1][:n])

    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    bare = App(signing_secret=secret, client=WebClient(token=fake.token, base_url=fake.api_url),
               token_verification_enabled=False, process_before_response=True)
    bare.command("/aiwin")(lambda ack: ack())
    bare.event("reaction_added")(lambda ack: ack())
    bare_wsgi = SlackRequestHandler(bare)
    drive(bare_wsgi, make(200, "BW"))
    bare_cpu = drive(bare_wsgi, make(args.requests, "B"))

    from bot.server import Server
    from bot.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_postgres(args.postgres_url) if args.postgres_url else f"sqlite:///{tmp}/profile.db"
        settings = Settings(database_url=url, slack_bot_token=fake.token, slack_signing_secret=secret,
                            slack_api_url=fake.api_url, port=0)
        server = Server(settings, host="127.0.0.1", port=0, scheduler=False)  # worker not started
        if args.kind == "command":
            drive(server.web, make(200, "W"))
            requests = make(args.requests, "P")
        else:
            all_events = reaction_requests(secret, args.requests + 200)
            drive(server.web, all_events[:200])
            requests = all_events[200:]
        profiler = cProfile.Profile()
        if not args.no_profile:
            profiler.enable()
        ours_cpu = drive(server.web, requests)
        profiler.disable()
        server.stop()
        if args.postgres_url:
            drop_postgres(args.postgres_url, url)
    fake.stop()

    n = args.requests
    print(f"{args.kind}: bare Bolt (process_before_response) {bare_cpu / n * 1e6:.0f} us/request; "
          f"aiwins {ours_cpu / n * 1e6:.0f} us/request{'' if args.no_profile else ' under cProfile'} "
          f"({bare_cpu / ours_cpu:.2f}x of bare)")
    for order in () if args.no_profile else ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
