from slack_bolt import App

from bot.listeners.shortcuts import capture


def register(app: App) -> None:
    capture.register(app)
