"""Engine and sessions. SQLite is tuned for a small box (WAL, foreign keys, busy timeout);
PostgreSQL gets a pre-pinged pool. Write sessions on SQLite take the write lock up front
(BEGIN IMMEDIATE) so a read-then-write transaction never fails on a stale snapshot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_READ_ONLY = "aiwins_read_only"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI objects
            # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own is deferred).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # noqa: ANN001
            read_only = conn.get_execution_options().get(_READ_ONLY)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what we ship
    return create_engine(parsed, pool_pre_ping=True, pool_size=pool_size, max_overflow=20)


class Database:
    """The engine plus two kinds of session: `session()` for work that writes, `read()` for reads."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else nullcontext()

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
        with self._write_lock, self._write(info={"team_id": team_id}) as session, session.begin():
            yield session

    @contextmanager
    def read(self, team_id: str | None = None) -> Iterator[Session]:
        with self._read(info={"team_id": team_id}) as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
