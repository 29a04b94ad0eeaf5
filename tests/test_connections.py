"""Slow or idle clients cannot starve the server: 1,100 connections that send nothing or half a
request, and /healthz and a signed Slack command are still answered."""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest
from sqlalchemy.engine import make_url

from bot.server import CHANNEL_TIMEOUT
from tests.conftest import BOB, TEAM
from tests.helpers import all_text, recorded, wait_until

IDLE = 1100


def test_idle_and_half_open_connections_do_not_starve_the_server(db_url, server, slack, db):
    if make_url(db_url).get_backend_name() != "sqlite":
        pytest.skip("the HTTP layer is the same on every database")
    idle: list[socket.socket] = []
    try:
        for i in range(IDLE):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if i % 2:  # half of them start a request and never finish it
                sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            idle.append(sock)
        wait_until(lambda: len(server.http._map) > IDLE, message="the server to accept every connection")

        started = time.monotonic()
        with urllib.request.urlopen(server.url + "/healthz", timeout=10) as r:
            assert r.status == 200
        r = slack.command("/aiwin", "triaged the backlog with Claude", user_id=BOB)
        assert "Got your AI win" in all_text(r.json()["blocks"])
        assert time.monotonic() - started < 10
        print(f"{len(idle)} idle connections held; healthz and a command answered in "
              f"{time.monotonic() - started:.2f}s")
        assert [w.text for w in recorded(db, TEAM)] == ["triaged the backlog with Claude"]

        # And they are closed by the server before long (not after a minute).
        first = idle[0]
        first.settimeout(CHANNEL_TIMEOUT + 10)
        assert first.recv(1) == b""
    finally:
        for sock in idle:
            sock.close()
