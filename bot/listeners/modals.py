"""Opening a modal after the ack, and telling the person when Slack would not open it.

`views.open` fails when the trigger expired (3 s after the click, e.g. a slow ack), when Slack
has a bad moment (5xx), or when the view is refused. The person would otherwise see nothing:
they get an ephemeral note (or a DM where there is no response_url, e.g. App Home) with the
one-line form of the command.

A form that needs Slack lookups first (names, permalinks) cannot wait for them before
`views.open`: with a slow Slack they outlast the trigger. `open_then_fill` opens a loading view
at once and puts the real form in its place with `views.update` when the lookups are done."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.modals import fill_failed, modal_failed

log = logging.getLogger(__name__)

# views.update answers meaning the loading view is not ours to change any more: a newer version
# is in place (hash_conflict) or the person closed it (not_found).
_VIEW_GONE = frozenset({"hash_conflict", "not_found"})


def _error_of(e: Exception) -> str:
    if isinstance(e, SlackApiError):
        return str(e.response.get("error") or f"HTTP {e.response.status_code}")
    return e.__class__.__name__


def open_modal(client: WebClient, trigger_id: str | None, view: dict[str, Any], *, what: str,
               one_line: str | None, tell: Callable[[dict[str, Any]], None]) -> dict[str, Any] | None:
    """views.open; on failure log one line and `tell` the person. Returns the opened view (its `id`
    and `hash` are what views.update needs), or None when it did not open."""
    try:
        return client.views_open(trigger_id=trigger_id or "", view=view).get("view") or {}
    except Exception as e:  # noqa: BLE001 - refused or network trouble: the person hears about it all the same
        error = _error_of(e)
    log.warning("could not open the %s modal: %s", what, error)
    try:
        tell(modal_failed(what, error, one_line))
    except Exception:  # noqa: BLE001 - nothing more we can do; the log line above says what happened
        log.warning("could not tell the person that the %s modal did not open", what, exc_info=True)
    return None


def open_then_fill(client: WebClient, trigger_id: str | None, loading: dict[str, Any],
                   build: Callable[[], dict[str, Any]], *, what: str, one_line: str | None,
                   tell: Callable[[dict[str, Any]], None]) -> bool:
    """Open `loading` inside the trigger's 3 seconds, then replace it with `build()` (which may call
    Slack for as long as it takes). The update carries the opened view's `hash`, so it never
    overwrites a newer version. Returns True when the real form is in place."""
    opened = open_modal(client, trigger_id, loading, what=what, one_line=one_line, tell=tell)
    if opened is None:
        return False
    view_id, view_hash = opened.get("id"), opened.get("hash")
    try:
        view = build()
    except Exception:
        log.exception("could not prepare the %s form (view %s)", what, view_id)
        view = None
    if view is not None:
        try:
            client.views_update(view_id=view_id, hash=view_hash, view=view)
            return True
        except Exception as e:  # noqa: BLE001 - refused or network trouble: say so in the open view
            error = _error_of(e)
            log.warning("could not fill in the %s modal (view %s): %s", what, view_id, error)
            if error in _VIEW_GONE:
                return False
    try:
        client.views_update(view_id=view_id, hash=view_hash, view=fill_failed(loading, what, one_line))
    except Exception as e:  # noqa: BLE001 - the log line above already says the form was not filled in
        log.warning("could not tell the person in the %s modal that it failed: %s", what, _error_of(e))
    return False


def respond_with(respond: Any) -> Callable[[dict[str, Any]], None]:
    return lambda message: respond(**message, replace_original=False)


def dm_with(client: WebClient, user_id: str) -> Callable[[dict[str, Any]], None]:
    """For App Home buttons and global shortcuts, which have no response_url: a DM from the bot."""
    return lambda message: client.chat_postMessage(channel=user_id, text=message["text"],
                                                   blocks=message.get("blocks"))
