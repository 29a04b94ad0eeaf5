"""INSERT … ON CONFLICT on either database. SQLAlchemy spells it the same way for PostgreSQL and SQLite
(`on_conflict_do_nothing`, `on_conflict_do_update`, `excluded`), but each dialect has its own Insert:
the choice between them is made here, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

DIALECTS = ("sqlite", "postgresql")


def upsert(dialect: str, table: Table | type) -> Any:
    """An INSERT into `table` (a Table or a mapped class) that takes ON CONFLICT clauses on `dialect`."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def insert_ignore(session: Session, model: type, values: dict[str, Any], *, returning=None) -> Any:  # noqa: ANN001
    """INSERT … ON CONFLICT DO NOTHING on either database. Returns the result of execute()."""
    stmt = upsert(session.get_bind().dialect.name, model).values(**values).on_conflict_do_nothing()
    if returning is not None:
        stmt = stmt.returning(returning)
    return session.execute(stmt)
