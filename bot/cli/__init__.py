"""The `aiwins` command (also `python -m bot`). Configuration errors print one line, no traceback."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.settings import ConfigError, Settings, load_settings

log = logging.getLogger("aiwins")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_slack()
    from bot.server import Server
    from bot.slack.client import check_bot_token

    check_bot_token(settings)

    server = Server(settings, host=args.host, port=args.port, scheduler=not args.no_scheduler,
                    worker=not args.no_worker)

    def stop(signum, frame) -> None:  # noqa: ANN001
        log.info("signal %s received, shutting down", signum)
        server.request_stop()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    return 0


def _scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from bot.registry import PERIODIC
    from bot.scheduler import start_scheduler

    def start(runtime: Any) -> Callable[[], None]:
        runtime.scheduler = start_scheduler(runtime, PERIODIC)
        log.info("scheduler running")
        return lambda: runtime.scheduler.shutdown(wait=False)

    return _background(settings, start)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    def start(runtime: Any) -> Callable[[], None]:
        log.info("job worker running")
        return lambda: None

    # Its own process: celebrations never share an interpreter with acks. It polls (acks do not wake it
    # across processes), often enough that a celebration follows its win within a fraction of a second.
    return _background(settings, start, poll_interval=0.25, threads=8)


def _background(settings: Settings, start: Callable[[Any], Callable[[], None]], **worker: Any) -> int:
    """Run a job worker (and what `start` adds) until SIGTERM or SIGINT; then drain."""
    import threading

    from bot.server import build_runtime

    runtime = build_runtime(settings, worker_threads=worker.get("threads", 4),
                            poll_interval=worker.get("poll_interval", 1.0))
    runtime.worker.start()
    stop = start(runtime)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    stop()
    runtime.worker.stop()
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.migrate import upgrade

    upgrade(settings.database_url)
    print("database is at the newest migration")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    return run_demo()


def _digest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.deliveries import cli_digest

    return cli_digest(args, settings)


def _prompts(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.deliveries import cli_prompts

    return cli_prompts(args, settings)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.export import cli_export

    return cli_export(args, settings)


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import Database
    from bot.services.uninstall import purge

    class DryRun(Exception):
        """Roll the purge back: without --yes it only counts."""

    db = Database(settings.database_url, pool_size=1)
    removed: dict[str, int] = {}
    try:
        try:
            with db.session(args.team) as session:
                removed = purge(session, args.team)
                if not args.yes:
                    raise DryRun
        except DryRun:
            pass
        total = sum(removed.values())
        detail = ", ".join(f"{n} {table}" for table, n in sorted(removed.items())) or "nothing"
        if args.yes:
            print(f"aiwins: purged workspace {args.team}: {total} rows ({detail})")
        else:
            print(f"aiwins: would purge workspace {args.team}: {total} rows ({detail}); add --yes to do it")
        return 0
    finally:
        db.dispose()


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.report import cli_report

    return cli_report(args, settings)


def _rollups(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.rollups import cli_rollups

    return cli_rollups(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiwins", description="AI Wins: celebrate smart AI use in Slack.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the HTTP server for Slack (and the scheduler)")
    p.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server in a container listens on all
    p.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    p.add_argument("--no-scheduler", action="store_true", help="when a separate `aiwins scheduler` runs")
    p.add_argument("--no-worker", action="store_true",
                   help="when a separate `aiwins worker` runs (PostgreSQL): acks only, in this process")
    p.set_defaults(func=_serve)
    p = sub.add_parser("scheduler", help="run only the scheduler and job worker")
    p.set_defaults(func=_scheduler)
    p = sub.add_parser("worker", help="run only the job worker (celebrations, DMs, App Home)")
    p.set_defaults(func=_worker)
    p = sub.add_parser("migrate", help="upgrade the database to the newest migration")
    p.set_defaults(func=_migrate)
    p = sub.add_parser("digest", help="print a channel's weekly digest (or post it once with --post)")
    p.add_argument("--team", help="workspace id (default: the only one)")
    p.add_argument("--channel", help="channel id (default: every subscribed channel)")
    p.add_argument("--week", help="ISO week like 2026-W48 (default: the current week)")
    p.add_argument("--post", action="store_true", help="post it; once per channel and week")
    p.set_defaults(func=_digest, needs_schema=True)
    p = sub.add_parser("prompts", help="print this week's leadership prompt (or post it once with --post)")
    p.add_argument("--team")
    p.add_argument("--channel")
    p.add_argument("--post", action="store_true")
    p.set_defaults(func=_prompts, needs_schema=True)
    p = sub.add_parser("export", help="the workspace's wins as CSV on standard output")
    p.add_argument("--team", required=True)
    p.add_argument("--since", help="YYYY-MM-DD: only wins from that day on")
    p.set_defaults(func=_export, needs_schema=True)
    p = sub.add_parser("report", help="print the monthly leadership report (or DM it once with --post)")
    p.add_argument("--team", help="workspace id (default: the only one)")
    p.add_argument("--month", help="like 2026-11 (default: last month)")
    p.add_argument("--post", action="store_true", help="DM it to managers and admins; once per person and month")
    p.set_defaults(func=_report, needs_schema=True)
    p = sub.add_parser("rollups", help="operators: recompute the adoption roll-ups from the wins")
    p.add_argument("action", choices=["rebuild"])
    p.add_argument("--team", help="workspace id (default: every workspace)")
    p.set_defaults(func=_rollups)
    p = sub.add_parser("demo", help="a self-contained tour with a simulated Slack")
    p.set_defaults(func=_demo)
    p = sub.add_parser("purge", help="delete every row of one workspace (wins, settings, tokens, jobs)")
    p.add_argument("--team", required=True, help="workspace id, e.g. T0AB12CD3EF")
    p.add_argument("--yes", action="store_true", help="really delete; without it, only say what would go")
    p.set_defaults(func=_purge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"aiwins: configuration error: {e}", file=sys.stderr)
        return 2
    from bot.logs import setup_logging

    setup_logging(settings)
    try:
        if getattr(args, "needs_schema", False):
            from bot.migrate import is_current

            if not is_current(settings.database_url):
                print(f"aiwins: the database ({safe_url(settings.database_url)}) is not migrated: "
                      "run `aiwins migrate` first", file=sys.stderr)
                return 1
        return args.func(args, settings)
    except ConfigError as e:
        print(f"aiwins: configuration error: {e}", file=sys.stderr)
        return 2
    except OperationalError as e:
        reason = str(e.orig).strip().splitlines()[0] if e.orig else type(e).__name__
        print(f"aiwins: cannot use the database ({safe_url(settings.database_url)}): {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
