"""Requests from a workspace AI Wins was uninstalled from: answered, never acted on.

Slack stops sending a workspace's requests once the app is uninstalled there, but a request signed
before the uninstall still verifies for five minutes (a replay), and in single-workspace mode Bolt's
authorization remembers the auth.test it made before the token was revoked. So a middleware asks
whether the workspace is marked uninstalled before any listener runs (workspaces.is_uninstalled: read
once per UNINSTALL_TTL per process, forgotten at once by the process that handles an uninstall or
reinstall, so another replica may take a request for up to that long after it); while it is marked
(bot/services/uninstall.py), a command, shortcut, button, form or event records and queues nothing
and the person is told what happened and how to reinstall. The uninstall events themselves pass.

A reinstall clears the mark. With OAuth that is the completed install (bot/app.py). In
single-workspace mode there is no install step we see: what says the app is back is Slack accepting
SLACK_BOT_TOKEN for that workspace again (auth.test), which is asked when a request from the workspace
arrives, so it holds whether the new token came with a restart or Slack re-enabled the old one. A
refusal is remembered for RECHECK_AFTER, so replays cannot make us ask Slack on every request."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.blocks.common import ephemeral
from bot.blocks.uninstalled import uninstalled_modal, uninstalled_text
from bot.deps import Deps
from bot.services import workspaces

log = logging.getLogger(__name__)

UNINSTALL_EVENTS = ("app_uninstalled", "tokens_revoked", "team_access_granted", "team_access_revoked")
RECHECK_AFTER = 30.0  # seconds between two auth.test checks for one uninstalled workspace
_JSON = {"content-type": "application/json"}


class _Refusals:
    """Workspaces whose token Slack refused a moment ago (single-workspace mode)."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()

    def recent(self, team_id: str) -> bool:
        with self._lock:
            at = self._at.get(team_id)
            return at is not None and time.monotonic() - at < RECHECK_AFTER

    def remember(self, team_id: str) -> None:
        with self._lock:
            if len(self._at) > 10_000:
                self._at.clear()
            self._at[team_id] = time.monotonic()


def uninstall_gate() -> Callable[..., BoltResponse]:
    """The middleware, with its own memory of refusals (one per app)."""
    refused = _Refusals()

    def stop_if_uninstalled(context: BoltContext, body: dict[str, Any],
                            next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002 - Bolt's name
        team_id = context.team_id
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        if not team_id or event.get("type") in UNINSTALL_EVENTS:
            return next()
        deps: Deps = context["deps"]
        if not workspaces.is_uninstalled(deps.db, team_id):  # cached: no statement on the ack path
            return next()
        with deps.db.read(team_id) as session:
            since = workspaces.uninstalled_since(session, team_id)
        if since is None:  # reinstalled since the cached answer
            return next()
        if not deps.settings.oauth_enabled and _token_accepted_again(deps, team_id, refused):
            with deps.db.session(team_id) as session:
                workspaces.mark_reinstalled(session, team_id)
            log.info("workspace %s: Slack accepts the bot token again; the app is back (uninstalled since %s)",
                     team_id, since.isoformat())
            return next()
        kind = body.get("command") or event.get("type") or body.get("type") or "request"
        log.info("workspace %s: a %s arrived after the uninstall; answered, nothing recorded", team_id, kind)
        return _refusal(body, context, uninstalled_text(oauth=deps.settings.oauth_enabled))

    return stop_if_uninstalled


def _token_accepted_again(deps: Deps, team_id: str, refused: _Refusals) -> bool:
    if refused.recent(team_id) or not deps.settings.slack_bot_token:
        return False
    reason = None
    try:
        answer = deps.clients.for_token(deps.settings.slack_bot_token).auth_test()
        if answer.get("team_id") == team_id:
            return True
        reason = f"the token is {answer.get('team_id')}'s"
    except SlackApiError as e:  # token_revoked, invalid_auth …
        reason = str(e.response.get("error"))
    except Exception as e:  # noqa: BLE001 - Slack unreachable: not known to be back
        reason = type(e).__name__
    log.info("workspace %s stays uninstalled: Slack does not accept the bot token for it (%s)", team_id, reason)
    refused.remember(team_id)
    return False


def _refusal(body: dict[str, Any], context: BoltContext, text: str) -> BoltResponse:
    if body.get("command"):
        return BoltResponse(status=200, body=json.dumps(ephemeral(text)), headers=_JSON)
    if body.get("type") == "view_submission":
        return BoltResponse(status=200, headers=_JSON,
                            body=json.dumps({"response_action": "update", "view": uninstalled_modal(text)}))
    if context.response_url:  # a button or message shortcut: tell the person where they clicked
        try:
            WebhookClient(context.response_url, timeout=2).send_dict(
                {**ephemeral(text), "replace_original": False})
        except Exception:  # noqa: BLE001 - the answer is a courtesy; nothing was done either way
            log.warning("could not answer through the response_url after the uninstall", exc_info=True)
    return BoltResponse(status=200, body="")
