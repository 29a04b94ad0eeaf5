from slack_bolt import App

from bot.listeners.functions import steps


def register(app: App) -> None:
    steps.register(app)
