"""create_app(): the Bolt App, wired to our listeners. Nothing here talks to the network."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings

from bot.blocks.uninstalled import uninstalled_text
from bot.db import DATABASE_ERRORS, Database
from bot.deps import Deps
from bot.installations import BOLT_ROTATION_MINUTES, REFRESH_FAILED
from bot.listeners import register_listeners
from bot.listeners.uninstalled import uninstall_gate
from bot.manifest import BOT_SCOPES as MANIFEST_BOT_SCOPES
from bot.oauth_state import SignedOAuthStateStore
from bot.registry import SUBCOMMANDS
from bot.services.ratelimit import LocalLimiter, limits_of
from bot.services.workspaces import mark_reinstalled, org_workspaces
from bot.settings import Settings
from bot.slack_client import SlackClients, make_client, make_clients

log = logging.getLogger(__name__)

BOT_SCOPES = list(MANIFEST_BOT_SCOPES)  # what an OAuth install asks for: exactly manifest.yml's bot scopes


class _SameTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client that carries that
    very token (slack_bolt/app/app.py) and warns on every start that it "will be unused". Our
    settings are the one source of configuration, so the notice is always noise; nothing else is hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_SAME_TOKEN_NOTICE = _SameTokenNotice()


class _RefreshLoggedOnce(logging.Filter):
    """Bolt logs every authorization whose token rotation failed; bot/installations.py already logged
    that refresh once (until it succeeds), so Bolt's repetitions are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(f"Failed to rotate tokens due to {REFRESH_FAILED}")


_REFRESH_LOGGED_ONCE = _RefreshLoggedOnce()


def create_app(
    settings: Settings,
    *,
    db: Database,
    clients: SlackClients | None = None,
    notify_jobs: Callable[[], None] | None = None,
    process_before_response: bool = True,
) -> App:
    """Build the Bolt App. `process_before_response=True`: each listener's ack part runs on the
    request thread and the HTTP answer leaves as soon as it returns (BENCHMARKS.md measures
    this against Bolt's default runner, which polls for ack() every 10 ms); slow work is in
    lazy listeners and the job queue."""
    clients = clients or make_clients(settings, db)
    deps = Deps(settings=settings, db=db, clients=clients, notify_jobs=notify_jobs or (lambda: None),
                limiter=LocalLimiter(limits_of(settings)))
    common: dict[str, Any] = {
        "signing_secret": settings.slack_signing_secret or "socket-mode",
        "process_before_response": process_before_response,
        "raise_error_for_unhandled_request": False,
        # bot/web.py verifies HTTP requests on the raw bytes before parsing them itself, and hands
        # Bolt re-encoded JSON; Socket Mode requests are not signed.
        "request_verification_enabled": False,
        # What Bolt says when a workspace has no installation (OAuth) or Slack refuses the token at
        # the first request (single workspace): the same words as bot/listeners/uninstalled.py.
        "user_facing_authorize_error_message": uninstalled_text(oauth=settings.oauth_enabled),
    }
    logging.getLogger("slack_bolt.App").addFilter(_SAME_TOKEN_NOTICE)  # once: the same filter object
    logging.getLogger("slack_bolt.App").addFilter(_REFRESH_LOGGED_ONCE)
    if settings.oauth_enabled:
        store = clients.installation_store
        app = App(
            **common,
            client=make_client(None, settings.slack_api_url),
            installation_store=store,
            oauth_settings=OAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                scopes=BOT_SCOPES,
                # bot/installations.py refreshes rotating tokens earlier, one process at a time.
                token_rotation_expiration_minutes=BOLT_ROTATION_MINUTES,
                installation_store=store,
                # Signed and kept by the browser: a visit to the install page writes nothing.
                state_store=SignedOAuthStateStore(settings.slack_client_secret),
                install_path="/slack/install",
                redirect_uri_path="/slack/oauth_redirect",
                callback_options=CallbackOptions(success=lambda args: _installed(db, args),
                                                 failure=lambda args: args.default.failure(args)),
            ),
        )
    else:
        app = App(
            **common,
            client=clients.for_token(settings.slack_bot_token),  # carries the token
            # auth.test is called on the first request instead of here: no network in the constructor.
            token_verification_enabled=False,
        )

    @app.middleware
    def inject_deps(context: BoltContext, body: dict[str, Any],
                    next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        context["deps"] = deps
        if not context.team_id and isinstance(body.get("team_id"), str):
            # An org-wide install's event: Bolt takes the workspace from `authorizations`, which names
            # only the org; the event's own team_id is the workspace it happened in.
            context["team_id"] = body["team_id"]
        if context.function_bot_access_token:
            # A custom step's calls (functions.completeSuccess …) use its own short-lived workflow
            # token, as Bolt intends; one client per execution, not kept.
            context["client"] = make_client(context.function_bot_access_token, clients.base_url)
            context["client"].team_id = context.team_id
        elif context.bot_token:
            context["client"] = clients.for_token(context.bot_token, context.team_id)
        return next()

    # After the deps: it needs them. Bolt runs its own authorization before any of these.
    app.middleware(uninstall_gate())

    @app.error
    def on_error(error: Exception, body: dict[str, Any], request: BoltRequest) -> BoltResponse:
        kind = body.get("type") or ("command" if body.get("command") else "unknown")
        if isinstance(error, DATABASE_ERRORS):
            # An outage is not a bug: one line per request, no traceback (see bot/db.py for the limits).
            log.error("database unavailable, nothing saved (kind=%s team=%s user=%s): %s",
                      kind, _team_of(body), _user_of(body), _reason(error))
        else:
            log.exception(
                "unhandled error in listener (kind=%s team=%s user=%s)",
                kind, _team_of(body), _user_of(body), exc_info=error,
            )
        if kind == "event_callback":
            # Nothing was recorded: let Slack deliver the event again later.
            return BoltResponse(status=503, body="")
        if body.get("command"):
            message = {"response_type": "ephemeral",
                       "text": ":warning: Sorry, something went wrong on our side and nothing was saved. "
                               "Please try again in a minute."}
            return BoltResponse(status=200, body=json.dumps(message), headers={"content-type": "application/json"})
        return BoltResponse(status=200, body="")

    register_listeners(app, SUBCOMMANDS)
    app.deps = deps  # type: ignore[attr-defined]  # for the web layer and tests
    return app


def _installed(db: Database, args: SuccessArgs) -> BoltResponse:
    """An install completed (its tokens are stored): a workspace the app had been uninstalled from
    is served again, and its periodic work resumes."""
    installation = args.installation
    teams = [installation.team_id] if installation.team_id else []
    if installation.is_enterprise_install and installation.enterprise_id:
        # Org-wide: every workspace of the org the app has met is served again (a workspace the admin
        # leaves out is stopped again by Slack's team_access_revoked).
        with db.session() as session:
            teams = org_workspaces(session, installation.enterprise_id)
    for team_id in teams:
        with db.session(team_id) as session:
            if mark_reinstalled(session, team_id):
                log.info("workspace %s installed the app again", team_id)
    return args.default.success(args)


def _reason(error: Exception) -> str:
    orig = getattr(error, "orig", None) or error
    first_line = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first_line}"


def _team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team")
    return body.get("team_id") or (team.get("id") if isinstance(team, dict) else None)


def _user_of(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    return body.get("user_id") or (user.get("id") if isinstance(user, dict) else user)
