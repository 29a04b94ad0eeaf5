from slack_bolt import App

from bot.listeners import actions, commands, events, functions, shortcuts, views


def register_listeners(app: App) -> None:
    commands.register(app)
    events.register(app)
    actions.register(app)
    views.register(app)
    shortcuts.register(app)
    functions.register(app)
