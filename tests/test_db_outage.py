"""A database that hangs (accepts connections, answers nothing) is not a hung app: /healthz says 503
within seconds, /aiwin tells the person nothing was saved within Slack's 3 s, the outage is logged
once, and everything recovers by itself when the database answers again."""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
from sqlalchemy.engine import make_url

from bot.server import Server
from tests.conftest import BOB, CHANNEL, TEAM
from tests.helpers import all_text, settled, wait_until, wins


class StallingProxy:
    """A TCP proxy on loopback in front of PostgreSQL. `hold()` makes it a hung database: new
    connections are accepted and held, and nothing more is forwarded on any connection;
    `resume()` forwards again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self) -> None:
        self.forwarding.clear()

    def resume(self) -> None:
        self.forwarding.set()

    def close(self) -> None:
        self.closed = True
        self.forwarding.set()
        self.listener.close()

    def _may_forward(self) -> bool:
        while not self.forwarding.wait(0.05):
            if self.closed:
                return False
        return not self.closed

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _pump(self, client: socket.socket) -> None:
        with client:
            if not self._may_forward():
                return
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                return
            with upstream:
                other = {client: upstream, upstream: client}
                while not self.closed:
                    ready, _, _ = select.select(list(other), [], [], 0.1)
                    for sock in ready:
                        try:
                            data = sock.recv(65536)
                            if not data or not self._may_forward():
                                return
                            other[sock].sendall(data)
                        except OSError:
                            return


def _healthz(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def proxied(db_url, settings):
    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a hung database is simulated with a TCP proxy in front of PostgreSQL")
    proxy = StallingProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    srv = Server(replace(settings, database_url=proxied_url), host="127.0.0.1", port=0, scheduler=False,
                 poll_interval=0.2).serve_in_thread()
    yield proxy, srv
    proxy.resume()
    srv.stop()
    proxy.close()


def test_hung_database_is_a_503_and_a_polite_answer_then_recovers(proxied, fake_slack, db, caplog):
    from bot.sandbox.requests import SlackSender

    caplog.set_level(logging.INFO)
    proxy, srv = proxied
    slack = SlackSender(base_url=srv.url, signing_secret=srv.runtime.settings.slack_signing_secret, team_id=TEAM)
    r = slack.command("/aiwin", "drafted the memo with Claude", user_id=BOB, channel_id=CHANNEL)
    assert "Got your AI win" in all_text(r.json()["blocks"])
    assert _healthz(srv.url) == 200

    proxy.hold()
    started = time.monotonic()
    assert _healthz(srv.url) == 503
    to_503 = time.monotonic() - started
    assert to_503 < 10

    started = time.monotonic()
    r = slack.command("/aiwin", "summarised the thread with ChatGPT", user_id=BOB, channel_id=CHANNEL)
    answered = time.monotonic() - started
    assert r.status == 200 and r.json()["response_type"] == "ephemeral"
    assert "nothing was saved" in r.text and "try again in a minute" in r.text
    assert answered < 3.0  # Slack's deadline for a slash command
    assert _healthz(srv.url) == 503
    print(f"hung database: /healthz 503 after {to_503:.2f}s, /aiwin answered after {answered:.2f}s")

    proxy.resume()
    wait_until(lambda: _healthz(srv.url) == 200, timeout=30, message="/healthz to recover")
    r = slack.command("/aiwin", "wrote the tests with Copilot", user_id=BOB, channel_id=CHANNEL)
    assert "Got your AI win" in all_text(r.json()["blocks"])
    # Both acknowledged commands become wins (the first was in the queue before the outage).
    # (A command its worker was running when the database hung runs again when that lease lapses: 15 s.)
    assert sorted(w.text for w in settled(db, TEAM, timeout=45)) == [
        "drafted the memo with Claude", "wrote the tests with Copilot"]

    # One line when the outage starts and one when it ends, per watcher; no tracebacks.
    wait_until(lambda: any("database is available again" in m for m in caplog.messages), timeout=30,
               message="the job worker to notice the recovery")
    messages = caplog.messages
    assert sum("health check: database unavailable" in m for m in messages) == 1
    assert sum("health check: the database answers again" in m for m in messages) == 1
    assert sum("job worker: the database is unavailable" in m for m in messages) == 1
    assert sum("job worker: the database is available again" in m for m in messages) == 1
    assert not [rec for rec in caplog.records if rec.exc_info]
    slack.close()


def test_a_locked_sqlite_file_is_a_polite_answer_within_3s(db_url, slack, db, caplog):
    import sqlite3

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's write lock")
    other = sqlite3.connect(url.database, isolation_level=None)  # another process, e.g. `aiwins digest --post`
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        r = slack.command("/aiwin", "summarised the thread with ChatGPT", user_id=BOB, channel_id=CHANNEL)
        answered = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert r.status == 200 and "nothing was saved" in r.text
    assert answered < 3.0  # Slack's deadline for a slash command
    assert not [rec for rec in caplog.records if rec.exc_info]
    assert wins(db, TEAM) == []
