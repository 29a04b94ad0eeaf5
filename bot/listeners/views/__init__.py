from slack_bolt import App

from bot.blocks.win import WIN_MODAL
from bot.listeners.views.win_modal import handle_win_modal


def register(app: App) -> None:
    app.view(WIN_MODAL)(handle_win_modal)
