"""Assembles a running AI Wins process: database, migrations, Bolt app, job worker, scheduler,
and the waitress HTTP server. `aiwins serve`, the demo, the tests and the benchmarks all use it."""

from __future__ import annotations

import logging
import resource
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import waitress
from slack_bolt import App
from waitress import wasyncore

from bot.app import create_app
from bot.db import Database
from bot.jobs.worker import JobContext, Worker
from bot.llm import model_of
from bot.migrate import upgrade
from bot.registry import JOB_HANDLERS, PERIODIC
from bot.services.ratelimit import limits_of, search_limits_of
from bot.settings import Settings
from bot.slack.client import SlackClients, make_clients
from bot.web import MAX_BODY, WebApp

log = logging.getLogger(__name__)
# Every database call of a running server ends within this (plus connecting, at most 2 s): a
# hung database gets the person "nothing was saved" within Slack's 3 seconds (bot/db.py).
QUERY_TIMEOUT = 2.0
# Slack sends a whole request at once: a connection idle (or half-sent) this long is not Slack.
CHANNEL_TIMEOUT = 10
CLEANUP_INTERVAL = 2  # how often waitress looks for such connections
MAX_CONNECTIONS = 10_000
FD_HEADROOM = 256  # files and sockets besides client connections: database pool, Slack API, logs


def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open files to the hard limit; return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit from %s", soft)
    return soft


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clients: SlackClients
    worker: Worker | None = None
    scheduler: Any = None


def build_runtime(settings: Settings, *, migrate: bool = True, worker_threads: int = 4,
                  poll_interval: float = 1.0) -> Runtime:
    if migrate:
        upgrade(settings.database_url)
    db = Database(settings.database_url, pool_size=12, query_timeout=QUERY_TIMEOUT)
    clients = make_clients(settings, db)
    ctx = JobContext(db=db, clients=clients, limits=limits_of(settings), search_limits=search_limits_of(settings),
                     model=model_of(settings))
    worker = Worker(ctx, threads=worker_threads, poll_interval=poll_interval, handlers=JOB_HANDLERS)
    return Runtime(settings=settings, db=db, clients=clients, worker=worker)


def _unread_bytes(sock: socket.socket) -> bool:
    """True when the peer sent bytes the HTTP loop has not read yet (a request on its way in)."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))  # b"": the peer closed; idle
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return False


class Server:
    """The HTTP server plus background work (job worker and scheduler threads), startable in a
    thread (tests, the demo) or in the foreground (`aiwins serve`).

    The worker runs on threads of this process on purpose: with SQLite, one process owning the
    file means writers queue on an in-process lock instead of SQLite's busy handler, which
    sleeps up to 100 ms at a time (BENCHMARKS.md has the numbers for both designs)."""

    def __init__(self, settings: Settings, *, host: str = "0.0.0.0", port: int | None = None,  # noqa: S104
                 scheduler: bool = True, threads: int = 8, migrate: bool = True,
                 worker_threads: int = 4, poll_interval: float = 1.0,
                 process_before_response: bool = True, worker: bool = True) -> None:
        self.runtime = build_runtime(settings, migrate=migrate, worker_threads=worker_threads,
                                     poll_interval=poll_interval)
        if not worker:  # `aiwins worker` runs the queue in its own process (--no-worker)
            self.runtime.worker = None
        worker = self.runtime.worker
        self.app: App = create_app(settings, db=self.runtime.db, clients=self.runtime.clients,
                                   wake_worker=worker.wake_worker if worker else None,
                                   process_before_response=process_before_response)
        self.web = WebApp(self.app, self.runtime.db, signing_secret=settings.slack_signing_secret,
                          metrics_token=settings.metrics_token, token_health=self.runtime.clients.token_health)
        if worker:
            worker.busy = self.web.busy
        self.use_scheduler = scheduler
        files = raise_open_file_limit()
        self.http = waitress.create_server(
            self.web, host=host, port=settings.port if port is None else port, threads=threads,
            max_request_body_size=MAX_BODY, ident="aiwins", clear_untrusted_proxy_headers=True,
            channel_timeout=CHANNEL_TIMEOUT, cleanup_interval=CLEANUP_INTERVAL,
            connection_limit=max(100, min(MAX_CONNECTIONS, files - FD_HEADROOM)),
            asyncore_use_poll=True,  # select() cannot watch descriptors past 1024
        )
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._loop_done = threading.Event()

    @property
    def port(self) -> int:
        return self.http.effective_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_background(self) -> None:
        if self.runtime.worker:
            self.runtime.worker.start()
        if self.use_scheduler:
            from bot.scheduler import start_scheduler

            self.runtime.scheduler = start_scheduler(self.runtime, PERIODIC)

    def serve_in_thread(self) -> Server:
        self.start_background()
        self._thread = threading.Thread(target=self._run_http, name="aiwins-http", daemon=True)
        self._thread.start()
        return self

    def _run_http(self) -> None:
        # waitress's own run(), one poll at a time so a drain can end it (its trigger socket
        # would otherwise keep the loop alive after the last connection closed).
        adj, socket_map = self.http.adj, self.http._map
        try:
            while socket_map and not self._loop_done.is_set():
                wasyncore.loop(timeout=adj.asyncore_loop_timeout, map=socket_map, use_poll=adj.asyncore_use_poll,
                               count=1)
        except (OSError, ValueError):
            if not self._stopping:
                raise  # closing sockets under a running loop raises; only then is it expected

    def serve_forever(self) -> None:
        self.start_background()
        if self.runtime.settings.slack_app_token:
            # Local development without a public URL: Slack's requests arrive over Socket Mode;
            # /healthz and /metrics are still served over HTTP.
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(self.app, self.runtime.settings.slack_app_token).connect()
            log.info("connected to Slack over Socket Mode")
        log.info("AI Wins listening on port %s", self.port)
        try:
            self._run_http()
        finally:
            self.stop()

    def request_stop(self, timeout: float = 25.0) -> None:
        """From a signal handler (SIGTERM): drain. Stop accepting connections and fail /healthz
        (load balancers stop sending), let requests in flight be answered, close each connection
        once idle, then end the HTTP loop; serve_forever then drains the worker (its jobs finish
        or are handed back) and exits."""
        if self._stopping:
            return
        self._stopping = True
        self.web.draining = True
        threading.Thread(target=self._drain, args=(timeout,), name="aiwins-drain", daemon=True).start()

    def _drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        # Thunks run on the HTTP loop's thread, the only one that may touch its sockets.
        self._in_loop(self._stop_accepting)
        while time.monotonic() < deadline:
            open_channels = self._in_loop(self._close_idle_channels)
            if not open_channels:  # 0, or None when the loop is already gone
                break
            time.sleep(0.02)
        else:
            log.warning("drain: connections still busy after %.0fs; closing them", timeout)
        self._loop_done.set()
        self.http.pull_trigger()

    def _in_loop(self, fn: Any, timeout: float = 5.0) -> Any:
        done = threading.Event()
        result: list[Any] = [None]

        def thunk() -> None:
            try:
                result[0] = fn()
            finally:
                done.set()

        self.http.trigger.pull_trigger(thunk)
        done.wait(timeout)
        return result[0]

    def _stop_accepting(self) -> None:
        """Close the listener, first taking the connections the kernel already completed: closing a
        listener resets its backlog, and a client there may have sent its request already."""
        http = self.http
        while select.select([http.socket], [], [], 0)[0]:
            before = len(http.active_channels)
            http.handle_accept()
            if len(http.active_channels) == before:
                break
        wasyncore.dispatcher.close(http)  # the listener only; the trigger stays for the drain's thunks

    def _close_idle_channels(self) -> int:
        """Mark connections with no request in progress to close; returns how many are still open."""
        channels = list(self.http.active_channels.values())
        for channel in channels:
            with channel.requests_lock:
                idle = not channel.requests and channel.request is None and not channel.total_outbufs_len
            if idle and not _unread_bytes(channel.socket):  # a request that arrived but is not parsed yet
                channel.will_close = True  # closed by the loop's next pass; it reads nothing more
        return len(channels)

    def stop(self) -> None:
        self._stopping = True
        self._loop_done.set()
        try:
            self.http.close()
            # Idle keep-alive connections would keep waitress's loop alive: close them too.
            for channel in list(self.http._map.values()):
                channel.will_close = True
                channel.close()
            self.http.task_dispatcher.shutdown(timeout=5)
        except Exception:
            log.debug("closing the HTTP server", exc_info=True)
        if self.runtime.scheduler is not None:
            self.runtime.scheduler.shutdown(wait=False)
            self.runtime.scheduler = None
        if self.runtime.worker:
            self.runtime.worker.stop()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.runtime.db.dispose()
