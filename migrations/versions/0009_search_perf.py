"""search: PostgreSQL's full-text indexes take each row at once (no GIN pending list)

Revision ID: 0009_search_perf
Revises: 0008_perf

With `fastupdate` on (PostgreSQL's default) new rows wait in the GIN index's pending list, up to
`gin_pending_list_limit` (4 MB), until a vacuum merges them; every search reads that whole list
first. bench/search.py: a 9,300-row list cost each search 3-4 ms, in a 1,000-win workspace as in
a 1M one. Off, each insert adds its ~12 words to the index directly (a win at a time: cheap).
SQLite (FTS5) has nothing like it: no-op there.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009_search_perf'
down_revision: str | None = '0008_perf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = ('ix_wins_search', 'ix_narratives_search')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")  # what waits already


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (fastupdate)")
