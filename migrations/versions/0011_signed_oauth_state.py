"""oauth: the install's state is signed and kept by the browser; its table goes

Revision ID: 0011_signed_oauth_state
Revises: 0010_recent_weeks

`slack_oauth_states` held a row per visit to `/slack/install`, removed only when that install
completed: a page anyone may load could fill it. The state is now an HMAC-signed, ten-minute token
(bot/oauth_state.py), so nothing reads or writes the table. A state issued before this revision
was a bare UUID and is refused after it: that person loads the install page again.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_signed_oauth_state'
down_revision: str | None = '0010_recent_weeks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('slack_oauth_states')


def downgrade() -> None:
    op.create_table('slack_oauth_states',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('state', sa.String(length=200), nullable=False),
                    sa.Column('expire_at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_slack_oauth_states')))
