"""hardening: per-person rate limits

Revision ID: 0004_hardening
Revises: 0003_privacy
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_hardening'
down_revision: str | None = '0003_privacy'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limits',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('tat', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'user_id', 'action', name=op.f('pk_rate_limits'))
    )


def downgrade() -> None:
    op.drop_table('rate_limits')
