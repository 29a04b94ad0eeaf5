"""search: full-text indexes on wins and narratives; where a win was recorded from

Revision ID: 0005_search
Revises: 0004_hardening

SQLite: FTS5 external-content tables (`wins_fts`, `narratives_fts`) kept in step by triggers.
PostgreSQL: a generated, stored `search_tsv` column (`to_tsvector('simple', …)`) with a GIN index.
Neither is a model object (SQLite has no such column): migrations/env.py leaves these names out of
`alembic check`.

Anything that later recreates the `wins` or `narratives` table on SQLite (a batch "move and
copy") drops the triggers with it: such a migration must create them again (`SQLITE_UP`).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_search'
down_revision: str | None = '0004_hardening'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('wins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_channel', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('source_ts', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('source_thread_ts', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('source_permalink', sa.Text(), nullable=True))
    # An index, not a table constraint: SQLite adds it without recreating the table.
    op.create_index('ux_wins_source_message', 'wins', ['team_id', 'author_id', 'source_channel', 'source_ts'],
                    unique=True)
    for statement in SQLITE_UP if _dialect() == 'sqlite' else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if _dialect() == 'sqlite' else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_index('ux_wins_source_message', table_name='wins')
    with op.batch_alter_table('wins', schema=None) as batch_op:
        batch_op.drop_column('source_permalink')
        batch_op.drop_column('source_thread_ts')
        batch_op.drop_column('source_ts')
        batch_op.drop_column('source_channel')


def _dialect() -> str:
    return op.get_bind().dialect.name


# Wire text (<@U…|name>, &amp;) is indexed as stored: FTS5's unicode61 tokenizer splits on the
# markup, and PostgreSQL's expression maps it to spaces (its parser would read `<…>` as a tag).
WINS_TSV = ("to_tsvector('simple'::regconfig, translate(coalesce(text, '') || ' ' || coalesce(tool, '') || ' ' "
            "|| coalesce(tags, ''), '<>|&;', '     '))")
NARRATIVES_TSV = ("to_tsvector('simple'::regconfig, translate(coalesce(text, '') || ' ' || coalesce(tools, '') "
                  "|| ' ' || coalesce(checked, ''), '<>|&;', '     '))")

# A stored column, not an expression index: ranking reads the vector instead of re-parsing every
# matching text (56,000 matches: 1.1 s → ms). Not a model column: only PostgreSQL has it.
POSTGRES_UP = [
    f"ALTER TABLE wins ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({WINS_TSV}) STORED",
    "CREATE INDEX ix_wins_search ON wins USING gin (search_tsv)",
    f"ALTER TABLE narratives ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({NARRATIVES_TSV}) STORED",
    "CREATE INDEX ix_narratives_search ON narratives USING gin (search_tsv)",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_narratives_search", "DROP INDEX IF EXISTS ix_wins_search",
                 "ALTER TABLE narratives DROP COLUMN IF EXISTS search_tsv",
                 "ALTER TABLE wins DROP COLUMN IF EXISTS search_tsv"]


def _fts(table: str, columns: list[str]) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    fts = f"{table}_fts"
    # External content: the text lives once, in the table; FTS5 keeps only the index. The
    # workspace id is indexed too: a small workspace's search walks only its own rows.
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        # Only edits of indexed columns touch the index (post status and the like change often).
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # rows recorded before this revision
    ]


SQLITE_UP = [*_fts("wins", ["team_id", "text", "tool", "tags"]),
             *_fts("narratives", ["team_id", "text", "tools", "checked"])]
SQLITE_DOWN = [
    f"{kind} IF EXISTS {t}_fts{suffix}"
    for t in ("wins", "narratives")
    for kind, suffix in (("DROP TRIGGER", "_ai"), ("DROP TRIGGER", "_ad"), ("DROP TRIGGER", "_au"), ("DROP TABLE", ""))
]
