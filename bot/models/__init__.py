"""All tables. Importing this package registers every model on `Base.metadata`
(Alembic's env.py and `alembic check` rely on that)."""

from bot.models.base import Base, UTCDateTime, utcnow
import bot.models.slack_oauth  # noqa: F401  (registers the OAuth tables)
from bot.models.job import JOB_DONE, JOB_FAILED, JOB_PENDING, Job
from bot.models.tenant import TenantMixin, TenantScopeError
from bot.models.win import TEXT_PLAIN, TEXT_WIRE, Win, WinOwner
from bot.models.workspace import Member, Workspace

__all__ = [
    "Base", "UTCDateTime", "utcnow", "Job", "JOB_DONE", "JOB_FAILED", "JOB_PENDING", "TenantMixin",
    "TenantScopeError", "TEXT_PLAIN", "TEXT_WIRE", "Win", "WinOwner", "Member", "Workspace",
]
