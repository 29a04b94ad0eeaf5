"""Opening a modal after the ack, and telling the person when Slack would not open it.

`views.open` fails when the trigger expired (3 s after the click, e.g. a slow ack), when Slack
has a bad moment (5xx), or when the view is refused. The person would otherwise see nothing:
they get an ephemeral note (or a DM where there is no response_url, e.g. App Home) with the
one-line form of the command."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.modals import modal_failed

log = logging.getLogger(__name__)


def open_modal(client: WebClient, trigger_id: str | None, view: dict[str, Any], *, what: str,
               one_line: str | None, tell: Callable[[dict[str, Any]], None]) -> bool:
    """views.open; on failure log one line and `tell` the person. Returns True when it opened."""
    error: str | None = None
    try:
        client.views_open(trigger_id=trigger_id or "", view=view)
        return True
    except SlackApiError as e:
        error = str(e.response.get("error") or f"HTTP {e.response.status_code}")
    except Exception as e:  # noqa: BLE001 - network trouble: the person hears about it all the same
        error = e.__class__.__name__
    log.warning("could not open the %s modal: %s", what, error)
    try:
        tell(modal_failed(what, error, one_line))
    except Exception:  # noqa: BLE001 - nothing more we can do; the log line above says what happened
        log.warning("could not tell the person that the %s modal did not open", what, exc_info=True)
    return False


def respond_with(respond: Any) -> Callable[[dict[str, Any]], None]:
    return lambda message: respond(**message, replace_original=False)


def dm_with(client: WebClient, user_id: str) -> Callable[[dict[str, Any]], None]:
    """For App Home buttons, which have no response_url: a DM from the bot."""
    return lambda message: client.chat_postMessage(channel=user_id, text=message["text"],
                                                   blocks=message.get("blocks"))
