from slack_bolt import App

import bot.features  # noqa: F401  (feature modules register their /aiwin subcommands)
from bot.listeners.commands.aiwin import ack_aiwin, lazy_aiwin


def register(app: App) -> None:
    app.command("/aiwin")(ack=ack_aiwin, lazy=[lazy_aiwin])
