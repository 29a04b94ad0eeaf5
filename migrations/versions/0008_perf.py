"""covering indexes for the adoption figures: the team-wide sums and the member list read the index alone

Revision ID: 0008_perf
Revises: 0007_leases
Create Date: 2026-11-27 18:05:00

"""
from collections.abc import Sequence

from alembic import op

revision: str = '0008_perf'
down_revision: str | None = '0007_leases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_activity_weeks_team_week_cover', 'activity_weeks',
                    ['team_id', 'week', 'user_id', 'narratives', 'minutes_recorded', 'minutes_recorded_told'],
                    unique=False)
    op.drop_index('ix_activity_weeks_team_week', table_name='activity_weeks')
    op.create_index('ix_activity_weeks_team_user_cover', 'activity_weeks', ['team_id', 'user_id', 'week', 'narratives'],
                    unique=False)
    op.create_index('ix_activity_week_destinations_team_week_cover', 'activity_week_destinations',
                    ['team_id', 'week', 'destination', 'minutes_recorded'], unique=False)
    op.drop_index('ix_activity_week_destinations_team_week', table_name='activity_week_destinations')
    op.create_index('ix_members_human', 'members', ['team_id', 'is_guest', 'is_bot', 'deleted', 'user_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_members_human', table_name='members')
    op.create_index('ix_activity_week_destinations_team_week', 'activity_week_destinations',
                    ['team_id', 'week', 'destination'], unique=False)
    op.drop_index('ix_activity_week_destinations_team_week_cover', table_name='activity_week_destinations')
    op.create_index('ix_activity_weeks_team_week', 'activity_weeks', ['team_id', 'week', 'user_id'], unique=False)
    op.drop_index('ix_activity_weeks_team_week_cover', table_name='activity_weeks')
    op.drop_index('ix_activity_weeks_team_user_cover', table_name='activity_weeks')
