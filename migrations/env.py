"""Alembic environment: the URL comes from the app's settings (one source of configuration),
and upgrades hold a lock so several replicas starting at once migrate one at a time."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from bot.db import make_engine
from bot.models import Base
from bot.settings import load_settings

config = context.config
target_metadata = Base.metadata
# Any fixed number: the PostgreSQL advisory lock that serialises concurrent `aiwins migrate`.
MIGRATION_LOCK_ID = 7_240_811


# Full-text search lives outside the models (revision 0005_search): SQLite FTS5 tables with their
# shadow tables, PostgreSQL expression indexes. Autogenerate cannot express them, so it skips them.
SEARCH_TABLES = ("wins_fts", "narratives_fts")
SEARCH_INDEXES = ("ix_wins_search", "ix_narratives_search")
SEARCH_COLUMN = "search_tsv"  # PostgreSQL only: generated from the text


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    if type_ == "table" and name and name.startswith(SEARCH_TABLES):
        return False
    if type_ == "column" and name == SEARCH_COLUMN:
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)


def database_url() -> str:
    return config.attributes.get("database_url") or load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    engine = None
    if connection is None:
        engine = make_engine(database_url(), pool_size=1)
        connection = engine.connect()
    try:
        # One outer transaction: on PostgreSQL it holds the advisory lock until commit; on SQLite
        # our engine begins it with BEGIN IMMEDIATE, which is the same lock for a file database.
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
                include_name=include_name,
            )
            context.run_migrations()
    finally:
        if engine is not None:
            connection.close()
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
