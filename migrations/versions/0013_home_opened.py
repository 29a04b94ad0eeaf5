"""members.home_opened_at: App Home is republished after a win only for people who opened it lately

Revision ID: 0013_home_opened
Revises: 0012_search_forgets

A win used to queue an App Home rebuild for its author and every owner, whether or not they ever look
at their Home tab; the rebuild was most of what a win cost the database after its ack. Now the app
notes when a person last opened Home (`app_home_opened`) and only people who did in the last 30 days
get their Home rebuilt in the background; the others get a fresh one when they next open it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_home_opened'
down_revision: str | None = '0012_search_forgets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch_op:
        batch_op.add_column(sa.Column('home_opened_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members') as batch_op:
        batch_op.drop_column('home_opened_at')
