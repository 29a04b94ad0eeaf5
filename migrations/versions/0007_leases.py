"""job leases name their holder: short leases renewed by a heartbeat, finished by compare-and-set

Revision ID: 0007_leases
Revises: 0006_rollups
Create Date: 2026-11-27 16:55:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_leases'
down_revision: str | None = '0006_rollups'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_by', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_jobs_locked_by', ['locked_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_locked_by')
        batch_op.drop_column('locked_by')
