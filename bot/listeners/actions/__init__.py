from slack_bolt import App

from bot.blocks.tries import TRIED_IT
from bot.listeners.actions import home as home_buttons
from bot.listeners.actions import narratives as narrative_buttons
from bot.listeners.actions import search as search_box
from bot.listeners.actions import teachbacks as teachback_buttons
from bot.listeners.actions import tries as tried_buttons
from bot.listeners.actions.typos import record_anyway, show_receipt
from bot.listeners.actions.win_buttons import ack_only, open_edit_modal, post_again


def register(app: App) -> None:
    app.action("win_edit")(ack=ack_only, lazy=[open_edit_modal])
    app.action("win_retry_post")(ack=ack_only, lazy=[post_again])
    app.action("win_record_anyway")(ack=record_anyway, lazy=[show_receipt])
    app.action(TRIED_IT)(ack=tried_buttons.ack_only, lazy=[tried_buttons.tried_it])
    teachback_buttons.register(app)
    narrative_buttons.register(app)
    home_buttons.register(app)
    search_box.register(app)
