from slack_bolt import App

from bot.blocks.win import WIN_MODAL
from bot.listeners.views import home_modals
from bot.listeners.views.narrative_modal import NARRATIVE_MODAL, handle_narrative_modal
from bot.listeners.views.win_modal import handle_win_modal


def register(app: App) -> None:
    app.view(WIN_MODAL)(handle_win_modal)
    app.view(NARRATIVE_MODAL)(handle_narrative_modal)
    home_modals.register(app)
