"""adoption: each person's active weeks as a 62-bit mask, so the figures read a row per person;
one covering index for every team-wide sum over a range of weeks

Revision ID: 0010_recent_weeks
Revises: 0009_search_perf

`activity_people.recent`: bit i set ⇔ the person was active in the week `last_week − i weeks`
(i < 62). Filled here from `activity_weeks`, a person at a time in person order, so memory stays
flat however large the workspace (the same computation as `aiwins rollups rebuild`, written out
so this revision does not change when the application does).

`ix_activity_weeks_team_week_sums` adds wins_recorded and wins_owned to the (team, week) covering
index, so App Home's weekly trend reads no table rows; the (team, user, week, narratives) index of
0008 served the per-person pass the mask replaces, and goes (one index fewer to keep per win).
`ix_members_human` gains is_admin and is_owner, so finding the managers reads no table rows.
"""
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = '0010_recent_weeks'
down_revision: str | None = '0009_search_perf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECENT_WEEKS = 62

weeks_t = sa.table('activity_weeks', sa.column('team_id', sa.String), sa.column('user_id', sa.String),
                   sa.column('week', sa.Date))
people_t = sa.table('activity_people', sa.column('team_id', sa.String), sa.column('user_id', sa.String),
                    sa.column('last_week', sa.Date), sa.column('recent', sa.BigInteger))


def upgrade() -> None:
    op.create_index('ix_activity_weeks_team_week_sums', 'activity_weeks',
                    ['team_id', 'week', 'user_id', 'wins_recorded', 'wins_owned', 'narratives', 'minutes_recorded',
                     'minutes_recorded_told'], unique=False)
    op.drop_index('ix_activity_weeks_team_week_cover', table_name='activity_weeks')
    op.drop_index('ix_activity_weeks_team_user_cover', table_name='activity_weeks')
    op.drop_index('ix_members_human', table_name='members')
    op.create_index('ix_members_human', 'members',
                    ['team_id', 'is_guest', 'is_bot', 'deleted', 'user_id', 'is_admin', 'is_owner'], unique=False)
    op.add_column('activity_people', sa.Column('recent', sa.BigInteger(), server_default='0', nullable=False))
    _fill_masks(op.get_bind())
    _analyze(op.get_bind())


def _fill_masks(bind: sa.Connection) -> None:
    last = {(t, u): _day(w) for t, u, w in bind.execute(sa.select(people_t.c.team_id, people_t.c.user_id,
                                                                   people_t.c.last_week))}
    if not last:
        return
    update = (people_t.update().where(people_t.c.team_id == sa.bindparam('t'), people_t.c.user_id == sa.bindparam('u'))
              .values(recent=sa.bindparam('m')))
    batch: list[dict] = []
    current, mask = None, 0
    rows = bind.execute(sa.select(weeks_t.c.team_id, weeks_t.c.user_id, weeks_t.c.week)
                        .order_by(weeks_t.c.team_id, weeks_t.c.user_id).execution_options(yield_per=10_000))
    for t, u, w in rows:
        if (t, u) != current:
            if current is not None:
                batch.append({'t': current[0], 'u': current[1], 'm': mask})
            if len(batch) >= 5_000:
                bind.execute(update, batch)
                batch = []
            current, mask = (t, u), 0
        i = (last.get(current, _day(w)) - _day(w)).days // 7
        if 0 <= i < RECENT_WEEKS:
            mask |= 1 << i
    if current is not None:
        batch.append({'t': current[0], 'u': current[1], 'm': mask})
    if batch:
        bind.execute(update, batch)


def _analyze(bind: sa.Connection) -> None:
    """SQLite plans with the statistics ANALYZE left (sqlite_stat1), which know nothing of an index made
    since: with statistics for the old indexes and none for the new, it can pick the wrong one. Refresh
    them for the tables changed here when a database has any (PostgreSQL's autovacuum does this)."""
    if bind.dialect.name == 'sqlite' and sa.inspect(bind).has_table('sqlite_stat1'):
        for table in ('activity_weeks', 'activity_people', 'members'):
            bind.exec_driver_sql(f'ANALYZE {table}')


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def downgrade() -> None:
    with op.batch_alter_table('activity_people') as batch:
        batch.drop_column('recent')
    op.create_index('ix_activity_weeks_team_user_cover', 'activity_weeks', ['team_id', 'user_id', 'week', 'narratives'],
                    unique=False)
    op.create_index('ix_activity_weeks_team_week_cover', 'activity_weeks',
                    ['team_id', 'week', 'user_id', 'narratives', 'minutes_recorded', 'minutes_recorded_told'],
                    unique=False)
    op.drop_index('ix_activity_weeks_team_week_sums', table_name='activity_weeks')
    op.drop_index('ix_members_human', table_name='members')
    op.create_index('ix_members_human', 'members', ['team_id', 'is_guest', 'is_bot', 'deleted', 'user_id'],
                    unique=False)
