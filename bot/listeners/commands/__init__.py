from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.listeners.commands.aiwin import ack_aiwin, lazy_aiwin
from bot.listeners.commands.router import Subcommands, split


def register(app: App, subcommands: Subcommands) -> None:
    # Bolt injects listener arguments by parameter name, so the table is bound here, not passed by Bolt.
    def aiwin_ack(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        ack_aiwin(ack, command, context, subcommands)

    def aiwin_lazy(command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond) -> None:
        lazy_aiwin(command, context, client, respond, subcommands)

    def ack_only(command: dict[str, Any]) -> bool:
        """A win typed inline, or a subcommand with nothing to do after the ack. Bolt copies the whole
        request and starts a thread for every lazy listener, even one that returns at once: about a
        fifth of an ack's CPU (BENCHMARKS.md), so these take a listener without one."""
        name, rest = split(command.get("text", ""), subcommands)
        return subcommands[name].lazy is None if name else bool(rest)

    app.command("/aiwin", matchers=[ack_only])(aiwin_ack)
    app.command("/aiwin")(ack=aiwin_ack, lazy=[aiwin_lazy])
