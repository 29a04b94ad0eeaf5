"""search: a deleted win's or story's words leave SQLite's full-text index too

Revision ID: 0012_search_forgets
Revises: 0011_signed_oauth_state

FTS5 does not remove a deleted row's words from its index: the 'delete' command of the triggers
(0005_search) adds a tombstone, and the words stay readable in `wins_fts_data` (and
`narratives_fts_data`) until the segments holding them are merged, which may be never.

The choice. FTS5's `secure-delete` option removes them at once, but it needs SQLite 3.42 or newer,
and the SQLite that Python 3.11 links here, and in the Docker image (python:3.11-slim, Debian
bookworm), is 3.40.1, which does not know the option. Setting it where a newer SQLite runs the
migration would not help either: it raises the table's FTS5 file-format version (4 to 5), and
SQLite before 3.42 then refuses the table ("invalid fts5 file format"), so a database migrated on
one machine would break search on another. Instead, every deletion runs FTS5's 'optimize' in the
transaction that deletes (bot/services/search.py: drop_deleted_words): it merges the index into one segment,
and merging drops the tombstoned words. That rewrites the whole index (about 0.1 s per 20,000 wins),
which a deletion can afford and a search cannot, so it happens on delete, never on read.

This revision runs it once, for the words of rows deleted before it. PostgreSQL keeps the words in
the row itself (the stored `search_tsv` column): nothing to do there.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0012_search_forgets'
down_revision: str | None = '0011_signed_oauth_state'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_TABLES = ('wins_fts', 'narratives_fts')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for fts in FTS_TABLES:
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")


def downgrade() -> None:
    pass  # nothing to undo: the index answers the same, without the deleted rows' words
