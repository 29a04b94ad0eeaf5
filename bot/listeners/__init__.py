from slack_bolt import App

from bot.listeners import actions, assistant, commands, events, functions, shortcuts, views
from bot.listeners.commands.router import Subcommands


def register_listeners(app: App, subcommands: Subcommands) -> None:
    commands.register(app, subcommands)
    events.register(app)
    actions.register(app)
    views.register(app)
    shortcuts.register(app)
    functions.register(app)
    assistant.register(app)
