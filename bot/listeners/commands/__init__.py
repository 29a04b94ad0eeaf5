from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.listeners.commands.aiwin import ack_aiwin, lazy_aiwin
from bot.listeners.commands.router import Subcommands


def register(app: App, subcommands: Subcommands) -> None:
    # Bolt injects listener arguments by parameter name, so the table is bound here, not passed by Bolt.
    def aiwin_ack(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        ack_aiwin(ack, command, context, subcommands)

    def aiwin_lazy(command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond) -> None:
        lazy_aiwin(command, context, client, respond, subcommands)

    app.command("/aiwin")(ack=aiwin_ack, lazy=[aiwin_lazy])
