"""All tables. Importing this package registers every model on `Base.metadata`
(Alembic's env.py and `alembic check` rely on that)."""

import bot.models.slack_oauth  # noqa: F401  (registers the OAuth tables)
from bot.models.adoption import AdoptionTeam, AdoptionTeamMember
from bot.models.base import Base, UTCDateTime, utcnow
from bot.models.channel import Channel
from bot.models.job import JOB_DONE, JOB_FAILED, JOB_PENDING, Job
from bot.models.narrative import Narrative
from bot.models.people import Manager, OptOut
from bot.models.ratelimit import RateLimit
from bot.models.rollup import ActivityPerson, ActivityWeek, ActivityWeekDestination, ActivityWeekTool
from bot.models.schedule import (
    DELIVERY_CLAIMED,
    DELIVERY_FAILED,
    DELIVERY_POSTED,
    KIND_DIGEST,
    KIND_PROMPTS,
    Delivery,
    Subscription,
)
from bot.models.teachback import (
    NOMINATION_ACTIVE,
    NOMINATION_WITHDRAWN,
    TB_ACCEPTED,
    TB_DECLINED,
    TB_DONE,
    TB_NOMINATED,
    TB_WITHDRAWN,
    Nomination,
    TeachBack,
)
from bot.models.tenant import TenantMixin, TenantScopeError
from bot.models.tried import Tried
from bot.models.win import TEXT_PLAIN, TEXT_WIRE, Win, WinOwner
from bot.models.workspace import Member, Workspace

__all__ = [
    "Channel",
    "Base", "UTCDateTime", "utcnow", "Job", "JOB_DONE", "JOB_FAILED", "JOB_PENDING", "TenantMixin",
    "TenantScopeError", "TEXT_PLAIN", "TEXT_WIRE", "Win", "WinOwner", "Member", "Workspace", "Narrative",
    "Manager", "OptOut", "Delivery", "Subscription", "DELIVERY_CLAIMED", "DELIVERY_FAILED", "DELIVERY_POSTED",
    "KIND_DIGEST", "KIND_PROMPTS", "Nomination", "TeachBack", "NOMINATION_ACTIVE", "NOMINATION_WITHDRAWN",
    "TB_ACCEPTED", "TB_DECLINED", "TB_DONE", "TB_NOMINATED", "TB_WITHDRAWN", "RateLimit",
    "ActivityWeek", "ActivityWeekDestination", "ActivityPerson", "ActivityWeekTool", "AdoptionTeam",
    "AdoptionTeamMember", "Tried",
]
