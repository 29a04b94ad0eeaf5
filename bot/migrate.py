"""Apply Alembic migrations from code (`aiwins migrate`, and `aiwins serve` at start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Upgrade to the newest revision. Safe to run from several processes at once: env.py
    holds a lock (PostgreSQL advisory lock, SQLite write lock) for the whole upgrade."""
    command.upgrade(alembic_config(database_url), "head")


def is_current(database_url: str) -> bool:
    """Whether the database is at the newest migration (False for an empty one)."""
    from bot.db import make_engine

    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    engine = make_engine(database_url, probe=True)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return False
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    finally:
        engine.dispose()
