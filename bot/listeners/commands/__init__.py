from typing import Any

from slack_bolt import App

import bot.features  # noqa: F401  (feature modules register their /aiwin subcommands)
from bot.listeners.commands.aiwin import ack_aiwin, lazy_aiwin
from bot.listeners.commands.router import SUBCOMMANDS, split


def _ack_only(command: dict[str, Any]) -> bool:
    """A win typed inline, or a subcommand with nothing to do after the ack. Bolt copies the whole
    request and starts a thread for every lazy listener, even one that returns at once: about a
    fifth of an ack's CPU (BENCHMARKS.md), so these take a listener without one."""
    name, rest = split(command.get("text", ""))
    return SUBCOMMANDS[name].lazy is None if name else bool(rest)


def register(app: App) -> None:
    app.command("/aiwin", matchers=[_ack_only])(ack_aiwin)
    app.command("/aiwin")(ack=ack_aiwin, lazy=[lazy_aiwin])
