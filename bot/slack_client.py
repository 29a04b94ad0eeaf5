"""The one place code gets a Slack Web API client for a workspace.

Jobs, the scheduler and the CLI call `SlackClients.for_team(team_id)`; listeners get the same
client injected by a middleware. Single-workspace mode uses SLACK_BOT_TOKEN; OAuth mode looks
up the workspace's bot token in the installation store, so callers never change."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.web import SlackResponse

from bot.db import Database
from bot.installations import GridInstallationStore
from bot.metrics import SLACK_API_ERRORS
from bot.models.slack_oauth import BOTS_TABLE, INSTALLATIONS_TABLE
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)
# What Slack answers when the token itself is no good: nothing works until a person fixes it.
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
# Methods Slack requires `team_id` for when the token is an org-wide install's ("required if org token
# is used"); with a workspace's token Slack ignores it. A client made for a workspace always sends it.
NEEDS_TEAM_ID = frozenset({"users.list", "usergroups.list", "usergroups.users.list", "conversations.list",
                           "users.conversations", "conversations.create"})


class TokenHealth:
    """Whether Slack accepted SLACK_BOT_TOKEN on the last call (single-workspace mode); /healthz
    reports a refusal until a call succeeds again."""

    def __init__(self) -> None:
        self.problem: str | None = None

    def saw(self, error: str | None) -> None:
        if error in AUTH_ERRORS and self.problem != error:
            log.error("Slack refuses SLACK_BOT_TOKEN: %s", error)
            self.problem = error
        elif error is None and self.problem is not None:
            log.info("Slack accepts SLACK_BOT_TOKEN again")
            self.problem = None


def check_bot_token(settings: Settings) -> None:
    """Call auth.test once at start: a bot token Slack refuses is a configuration error."""
    if settings.oauth_enabled or not settings.slack_bot_token:
        return
    try:
        make_client(settings.slack_bot_token, settings.slack_api_url).auth_test()
    except SlackApiError as e:
        error = e.response.get("error")
        if error in AUTH_ERRORS:
            raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({error}): copy the Bot User OAuth Token "
                              "from your Slack app's OAuth & Permissions page") from None
        log.warning("could not check SLACK_BOT_TOKEN with Slack at start: %s", error)
    except Exception as e:  # noqa: BLE001 - Slack unreachable: start anyway, the token is checked on use
        log.warning("could not check SLACK_BOT_TOKEN with Slack at start: %s", type(e).__name__)


class NotInstalled(LookupError):
    """No bot token is known for that workspace."""


class MeteredWebClient(WebClient):
    """A WebClient that counts failed calls in the `aiwins_slack_api_errors_total` metric, and
    tells `token_health` whether Slack accepted its token."""

    token_health: TokenHealth | None = None
    team_id: str | None = None  # the workspace this client works for (see NEEDS_TEAM_ID)

    def api_call(self, api_method: str, **kwargs) -> SlackResponse:  # noqa: ANN003 - WebClient's signature
        if self.team_id and api_method in NEEDS_TEAM_ID:
            _add_team_id(kwargs, self.team_id)
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as e:
            SLACK_API_ERRORS.labels(api_method, str(e.response.get("error") or e.response.status_code)).inc()
            if self.token_health is not None:
                self.token_health.saw(e.response.get("error"))
            raise
        except Exception as e:
            SLACK_API_ERRORS.labels(api_method, type(e).__name__).inc()
            raise
        if self.token_health is not None:
            self.token_health.saw(None)
        return response


def _add_team_id(kwargs: dict, team_id: str) -> None:
    for key in ("params", "data", "json"):
        if kwargs.get(key) is not None:
            kwargs[key] = {**kwargs[key], "team_id": kwargs[key].get("team_id") or team_id}
            return
    kwargs["params"] = {"team_id": team_id}


def make_client(token: str | None, base_url: str, *, timeout: int = 10) -> MeteredWebClient:
    # Connection resets and 5xx are retried in place, briefly. 429s are not: callers on the
    # request path report them, and jobs reschedule themselves for Retry-After instead of
    # blocking a worker thread in a sleep (which RateLimitErrorRetryHandler would do).
    return MeteredWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=1)],
    )


class SlackClients:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        installation_store: InstallationStore | None = None,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.installation_store = installation_store
        # Only one token to watch in single-workspace mode; in OAuth mode one workspace's revoked
        # token says nothing about the app's health.
        self.token_health = TokenHealth() if token and installation_store is None else None
        self._by_token: dict[tuple[str, str | None], MeteredWebClient] = {}
        self._lock = threading.Lock()

    def token_for(self, team_id: str, enterprise_id: str | None = None) -> str:
        if self.installation_store is not None:
            bot = self.installation_store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
            if bot is None or not bot.bot_token:
                raise NotInstalled(f"AI Wins is not installed in workspace {team_id}")
            return bot.bot_token
        if not self.token:
            raise NotInstalled("SLACK_BOT_TOKEN is not set")
        return self.token

    def for_token(self, token: str, team_id: str | None = None) -> MeteredWebClient:
        """The client for `token`, working for workspace `team_id` (an org-wide token serves many)."""
        with self._lock:
            client = self._by_token.get((token, team_id))
            if client is None:
                if len(self._by_token) > 10_000:  # rotated tokens are never used again
                    self._by_token.clear()
                client = self._by_token[(token, team_id)] = make_client(token, self.base_url)
                client.team_id = team_id
                if token == self.token:
                    client.token_health = self.token_health
            return client

    def for_team(self, team_id: str, enterprise_id: str | None = None) -> MeteredWebClient:
        return self.for_token(self.token_for(team_id, enterprise_id), team_id)


def installation_store(settings: Settings, db: Database) -> GridInstallationStore:
    # Tables belong to our Alembic history (bot/models/slack_oauth.py); create_tables() is never called.
    return GridInstallationStore(
        client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
        base_url=settings.slack_api_url, engine=db.read_only_engine(), writer=db.engine,
        bots_table_name=BOTS_TABLE, installations_table_name=INSTALLATIONS_TABLE,
    )


def make_clients(settings: Settings, db: Database) -> SlackClients:
    if settings.oauth_enabled:
        return SlackClients(settings.slack_api_url, installation_store=installation_store(settings, db))
    return SlackClients(settings.slack_api_url, token=settings.slack_bot_token)
