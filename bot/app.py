"""create_app(): the Bolt App, wired to our listeners. Nothing here talks to the network."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.db import Database
from bot.deps import Deps
from bot.listeners import register_listeners
from bot.models.slack_oauth import OAUTH_STATES_TABLE
from bot.settings import Settings
from bot.slack_client import SlackClients, make_client, make_clients

log = logging.getLogger(__name__)

BOT_SCOPES = [
    "commands", "chat:write", "chat:write.public", "reactions:read", "users:read", "usergroups:read",
    "im:write", "channels:read", "groups:read", "files:write",
]


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
    deps = Deps(settings=settings, db=db, clients=clients, notify_jobs=notify_jobs or (lambda: None))
    common: dict[str, Any] = {
        "signing_secret": settings.slack_signing_secret or "socket-mode",
        "process_before_response": process_before_response,
        "raise_error_for_unhandled_request": False,
        # Socket Mode requests are not signed; HTTP requests always are.
        "request_verification_enabled": not settings.slack_app_token,
    }
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
                installation_store=store,
                state_store=SQLAlchemyOAuthStateStore(
                    expiration_seconds=600, engine=db.engine, table_name=OAUTH_STATES_TABLE
                ),
                install_path="/slack/install",
                redirect_uri_path="/slack/oauth_redirect",
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
    def inject_deps(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        context["deps"] = deps
        if context.function_bot_access_token:
            # A custom step's calls (functions.completeSuccess …) use its own short-lived workflow
            # token, as Bolt intends; one client per execution, not kept.
            context["client"] = make_client(context.function_bot_access_token, clients.base_url)
        elif context.bot_token:
            context["client"] = clients.for_token(context.bot_token)
        return next()

    @app.error
    def on_error(error: Exception, body: dict[str, Any], request: BoltRequest) -> BoltResponse:
        kind = body.get("type") or ("command" if body.get("command") else "unknown")
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

    register_listeners(app)
    app.deps = deps  # type: ignore[attr-defined]  # for the web layer and tests
    return app


def _team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team")
    return body.get("team_id") or (team.get("id") if isinstance(team, dict) else None)


def _user_of(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    return body.get("user_id") or (user.get("id") if isinstance(user, dict) else user)
