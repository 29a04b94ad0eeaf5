"""What a request from a workspace AI Wins was uninstalled from is told: nothing was done, and how
to get the app back."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import section

_HOW = {
    # Multi-workspace: the app's own install page does it all.
    True: "A workspace admin can reinstall it from the app's install page (`/slack/install` on the AI Wins "
          "server).",
    # Single-workspace: Slack hands the new bot token to whoever runs the server.
    False: "A workspace admin can reinstall it from the app's settings page (api.slack.com/apps, *Install "
           "App*) and give the new bot token to whoever runs AI Wins.",
}


def uninstalled_text(*, oauth: bool) -> str:
    return (f":warning: AI Wins is no longer installed in this workspace, so nothing was saved or sent. "
            f"{_HOW[oauth]}")


def uninstalled_modal(text: str) -> dict[str, Any]:
    """What a form turns into when it is submitted after the uninstall (`response_action: update`)."""
    return {"type": "modal", "title": {"type": "plain_text", "text": "AI Wins"},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": [section(text)]}
