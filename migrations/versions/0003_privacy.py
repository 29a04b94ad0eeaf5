"""privacy: channels cache, wins/narratives private, workspace uninstalled

Existing wins and narratives get `private` NULL ("not known", treated as private): nothing recorded
before this revision is shown outside its own conversation until the app learns the channel's
privacy from Slack (the next celebration or narrative posted there sets it for new rows only).

Revision ID: 0003_privacy
Revises: 0002
Create Date: 2026-11-27 16:41:58.132965

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = '0003_privacy'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channels',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('is_private', sa.Boolean(), nullable=True),
    sa.Column('is_member', sa.Boolean(), nullable=True),
    sa.Column('is_archived', sa.Boolean(), nullable=False),
    sa.Column('checked_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'channel_id', name=op.f('pk_channels'))
    )
    with op.batch_alter_table('narratives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('private', sa.Boolean(), nullable=True))

    with op.batch_alter_table('wins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('private', sa.Boolean(), nullable=True))

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uninstalled_at', bot.models.base.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('uninstalled_at')

    with op.batch_alter_table('wins', schema=None) as batch_op:
        batch_op.drop_column('private')

    with op.batch_alter_table('narratives', schema=None) as batch_op:
        batch_op.drop_column('private')

    op.drop_table('channels')
