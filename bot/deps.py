"""What listeners and jobs need from the running app, in one object passed around explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.db import Database
from bot.services.ratelimit import Limits, LocalLimiter
from bot.settings import Settings
from bot.slack.client import SlackClients


@dataclass
class Deps:
    settings: Settings
    db: Database
    clients: SlackClients
    # Called after a transaction that enqueued jobs commits, so a local worker starts at once.
    wake_worker: Callable[[], None] = field(default=lambda: None)
    # This process's copy of the per-person limit, for the ack path (bot/services/ratelimit.py).
    limiter: LocalLimiter = field(default_factory=lambda: LocalLimiter(Limits()))

    def __deepcopy__(self, memo: dict) -> Deps:
        # Bolt deep-copies the context for lazy listeners; this is shared runtime, not request state.
        return self
