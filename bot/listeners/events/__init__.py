from slack_bolt import App

from bot.listeners.events import uninstall
from bot.listeners.events.inbox import durable_event

# Each of these becomes a job of the same kind; handlers live in bot/jobs/.
DURABLE_EVENTS = ("reaction_added", "reaction_removed", "app_home_opened")


def register(app: App) -> None:
    for kind in DURABLE_EVENTS:
        app.event(kind)(durable_event(kind))
    uninstall.register(app)  # app_uninstalled, tokens_revoked
