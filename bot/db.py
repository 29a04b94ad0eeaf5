"""Engine and sessions. SQLite is tuned for a small box (WAL, foreign keys, busy timeout);
PostgreSQL gets a pre-pinged pool. Write sessions on SQLite take the write lock up front
(BEGIN IMMEDIATE) so a read-then-write transaction never fails on a stale snapshot.

With `query_timeout` (the server's request path), no database call waits longer than that: a
database that accepts connections but never answers gives an error within seconds, not a hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

_READ_ONLY = "aiwins_read_only"
_BUSY_MS = "aiwins_busy_ms"  # SQLite: how long this transaction may wait for the file's write lock
# What a database outage raises (connect/query timeouts, refused connections, an exhausted pool).
DATABASE_ERRORS = (OperationalError, PoolTimeout)
CONNECT_TIMEOUT = 2  # seconds; libpq's minimum
PING_TIMEOUT = 0.3  # the pool's pre-ping of an idle connection: SELECT 1 answers in a millisecond
TCP_USER_TIMEOUT_MS = 5000  # a peer that stops acknowledging what we send is gone


class _DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server ends after `deadline` seconds.

    statement_timeout is enforced by the server, so it cannot help when the server (or the
    network) does not answer at all; then this closes the connection and raises, and the pool
    drops it (SQLAlchemy treats a closed connection as a disconnect)."""

    deadline: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:  # noqa: ANN401
        try:
            return super().wait(gen, interval, timeout if timeout is not None else self.deadline)
        except psycopg.errors._WaitTimeout:  # noqa: SLF001 - psycopg's own "no answer in time"
            self.pgconn.finish()
            raise psycopg.OperationalError(f"the database did not answer within {self.deadline:g}s") from None


def make_engine(url: str, *, pool_size: int = 10, query_timeout: float | None = None,
                probe: bool = False) -> Engine:
    """`probe`: no pool, a new connection each time (health checks must not trust a pooled one)."""
    parsed = make_url(url)
    pooling: dict[str, Any] = {"poolclass": NullPool} if probe else {"pool_size": pool_size, "max_overflow": 20}
    if query_timeout is not None and not probe:
        pooling["pool_timeout"] = query_timeout  # waiting for a free connection counts too
    if parsed.get_backend_name() == "sqlite":
        busy_ms = int((query_timeout or 30) * 1000)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            **pooling,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI objects
            # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own is deferred).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            # Deleted content is overwritten with zeros, not left in free space of the file (what a
            # build's default is varies); people delete wins so that their words are gone.
            cur.execute("PRAGMA secure_delete=ON")
            # 2 MB by default: a search's 500 candidate rows alone fill it (bench/search.py, 8 → 4 ms).
            cur.execute("PRAGMA cache_size=-16384")  # KiB, taken only as pages are read
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # noqa: ANN001
            options = conn.get_execution_options()
            # A writer that first waited for this process's lock gets only the rest of the time limit
            # for SQLite's (Database.session); anything else gets all of it.
            wanted = options.get(_BUSY_MS, busy_ms)
            if conn.info.get(_BUSY_MS, busy_ms) != wanted:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wanted)}")
                conn.info[_BUSY_MS] = wanted
            conn.exec_driver_sql("BEGIN" if options.get(_READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what we ship
    if parsed.drivername != "postgresql+psycopg":
        return create_engine(parsed, pool_pre_ping=True, **pooling)
    # URL query parameters win over these defaults.
    connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
                                    "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                                    "keepalives_count": 3}
    if query_timeout is not None:
        connect_args["options"] = f"-c statement_timeout={int(query_timeout * 1000)}"
    connect_args = {k: v for k, v in connect_args.items() if k not in parsed.query}
    engine = create_engine(parsed, pool_pre_ping=not probe, connect_args=connect_args, **pooling)
    if query_timeout is not None:
        # A little longer than statement_timeout, so a slow query ends with the server's clear error.
        deadline = query_timeout + 0.25

        @event.listens_for(engine, "do_connect")
        def _connect(dialect, conn_rec, cargs, cparams):  # noqa: ANN001, ANN202
            conn = _DeadlineConnection.connect(*cargs, **cparams)
            conn.deadline = deadline
            return conn

        default_ping = engine.dialect.do_ping

        def _quick_ping(dbapi_conn: _DeadlineConnection) -> bool:
            # The pre-ping of a pooled connection gets a shorter leash, so a checkout that finds the
            # database hung still has time to try a new connection within Slack's 3 seconds.
            dbapi_conn.deadline = PING_TIMEOUT
            try:
                return default_ping(dbapi_conn)
            finally:
                dbapi_conn.deadline = deadline

        engine.dialect.do_ping = _quick_ping  # type: ignore[method-assign]
    return engine


class Database:
    """The engine plus two kinds of session: `session()` for work that writes, `read()` for reads."""

    def __init__(self, url: str, *, pool_size: int = 10, query_timeout: float | None = None) -> None:
        self.url = url
        self.query_timeout = query_timeout
        self.engine = make_engine(url, pool_size=pool_size, query_timeout=query_timeout)
        self._probe: Engine | None = None
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        self._binds: dict[int, Engine] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, team_id: str | None = None) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on error.

        With `team_id`, every query on workspace data is limited to that workspace
        (bot/models/tenant.py); without it, such queries must opt in to all workspaces."""
        # SQLite has one writer at a time. Threads of this process queue on a lock instead of
        # on SQLite's busy handler, which sleeps in steps of up to 100 ms and so wrecks tail latency.
        with self._locked() as bind, self._write(bind=bind, info={"team_id": team_id}) as session, session.begin():
            yield session

    @contextmanager
    def _locked(self) -> Iterator[Engine]:
        """This process's SQLite write lock; yields the engine to write with. Both waits, for this lock
        and then for the file's (another process, or a writer of ours stuck on it), share one time
        limit: otherwise a request queued behind a stuck writer could wait twice `query_timeout`."""
        if self._write_lock is None:
            yield self.engine
            return
        started = time.monotonic()
        if not self._write_lock.acquire(timeout=-1 if self.query_timeout is None else self.query_timeout):
            raise OperationalError("BEGIN IMMEDIATE", None, TimeoutError("the database is busy"))
        try:
            yield self._engine_with_time_left(time.monotonic() - started)
        finally:
            self._write_lock.release()

    def _engine_with_time_left(self, waited: float) -> Engine:
        """The engine, with SQLite's busy timeout cut to what is left of `query_timeout` (in steps of
        0.1 s, one engine per step, made once)."""
        if self.query_timeout is None or waited < 0.1:
            return self.engine
        left_ms = max(0, int((self.query_timeout - waited) * 10)) * 100
        bind = self._binds.get(left_ms)
        if bind is None:
            bind = self._binds[left_ms] = self.engine.execution_options(**{_BUSY_MS: left_ms})
        return bind

    def read_only_engine(self) -> Engine:
        """The engine for code that reads outside a Session (slack-sdk's installation store): on SQLite its
        transactions take no write lock, so a writer holding it (a token refresh) does not stall them."""
        return self.engine.execution_options(**{_READ_ONLY: True})

    @contextmanager
    def read(self, team_id: str | None = None) -> Iterator[Session]:
        with self._read(info={"team_id": team_id}) as session, session.begin():
            yield session

    def ping(self) -> None:
        """SELECT 1 on a new connection, with the same time limits as requests."""
        if self._probe is None:
            self._probe = make_engine(self.url, query_timeout=self.query_timeout, probe=True)
        with self._probe.connect() as conn:
            conn.execution_options(**{_READ_ONLY: True})  # SQLite: no write lock for a health check
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self._probe is not None:
            self._probe.dispose()

