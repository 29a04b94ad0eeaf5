"""tries ("I tried it too") and workspaces.coach_model (an admin may turn the AI coach's model off)

Revision ID: 0014_coach
Revises: 0013_home_opened

A try is one person's "I tried it too" on one win or one story, once per person and thing (two unique
constraints: NULLs are distinct in both databases, so each row is held by the one it sets). Adoption
reads them by time (`ix_tries_team_created`) and per win (the unique constraint's prefix); the coach
reads what one person tried (`ix_tries_team_user`).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = '0014_coach'
down_revision: str | None = '0013_home_opened'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('win_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('narrative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['narrative_id'], ['narratives.id'], name=op.f('fk_tries_narrative_id_narratives'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['win_id'], ['wins.id'], name=op.f('fk_tries_win_id_wins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tries')),
    sa.UniqueConstraint('team_id', 'narrative_id', 'user_id', name=op.f('uq_tries_team_id_narrative_id_user_id')),
    sa.UniqueConstraint('team_id', 'win_id', 'user_id', name=op.f('uq_tries_team_id_win_id_user_id'))
    )
    with op.batch_alter_table('tries', schema=None) as batch_op:
        batch_op.create_index('ix_tries_team_created', ['team_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tries_team_user', ['team_id', 'user_id'], unique=False)

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coach_model', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('coach_model')

    with op.batch_alter_table('tries', schema=None) as batch_op:
        batch_op.drop_index('ix_tries_team_user')
        batch_op.drop_index('ix_tries_team_created')

    op.drop_table('tries')
