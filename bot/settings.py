"""The one source of configuration: the environment, or a `.env` file read with python-dotenv.

Every key is read and checked here, once. A missing or malformed key raises `ConfigError`
whose message names the key; the CLI prints that one line and exits, never a traceback.

Written by hand rather than with pydantic-settings: a frozen dataclass and python-dotenv cover the
flat list of keys, each check's message is ours to word (a key name and an example, for an operator
reading one line), and the app does not take on pydantic as a runtime dependency for it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from urllib.parse import urlparse

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///aiwins.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
SECRET_KEYS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN", "METRICS_TOKEN",
               "LLM_API_KEY")


class ConfigError(Exception):
    """A configuration key is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    log_format: str = "text"
    metrics_token: str | None = field(default=None, repr=False)
    # Per person: a burst of `rate_burst` wins (and, separately, stories and nominations), then
    # `rate_per_minute` a minute. Shared by every replica: the buckets are rows in the database.
    rate_burst: int = 5
    rate_per_minute: float = 6.0
    # Per person, searches (the command and the App Home box): their own bucket, the same rule.
    search_burst: int = 10
    search_per_minute: float = 20.0
    # The AI coach's optional model: any OpenAI-compatible chat-completions endpoint (bot/llm.py).
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_model: str | None = None

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    def require_slack(self) -> Settings:
        """Check what serving Slack needs: a signing secret and a way to get tokens."""
        if not self.slack_signing_secret and not self.slack_app_token:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic Information page")
        if not self.oauth_enabled and not self.slack_bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set (or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs)"
            )
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
            raise ConfigError(f"{missing} is not set: OAuth needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
        return self

    def __repr__(self) -> str:  # secrets never reach logs, even through repr()
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return f"Settings({shown})"


def check_database_url(url: str) -> None:
    """A SQLite or PostgreSQL URL whose (synchronous) driver is installed, or ConfigError."""
    example = "(example: sqlite:///aiwins.db or postgresql+psycopg://user:password@host/aiwins)"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is not a database URL {example}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL: {parsed.get_backend_name()!r} is not supported, only SQLite and "
                          f"PostgreSQL {example}")
    name = "postgresql+psycopg" if parsed.drivername == "postgresql" else parsed.drivername
    try:
        dialect = parsed.set(drivername=name).get_dialect()
        dialect.import_dbapi()
    except Exception:  # noqa: BLE001 - an unknown dialect or a driver that is not installed
        raise ConfigError(f"DATABASE_URL: the driver {name!r} is not available {example}") from None
    if dialect.is_async:
        raise ConfigError(f"DATABASE_URL: {name!r} is an asyncio driver; use a synchronous one {example}")


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: str | None = ".env") -> Settings:
    """Read settings from `environ` (default: os.environ) over the values of a `.env` file."""
    values: dict[str, str | None] = {}
    if dotenv_path and os.path.exists(dotenv_path):
        values.update(dotenv_values(dotenv_path))
    values.update(os.environ if environ is None else environ)

    def get(key: str) -> str | None:
        raw = values.get(key)
        if raw is None:
            return None
        raw = raw.strip()
        return raw or None

    database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
    check_database_url(database_url)

    api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if urlparse(api_url).scheme not in ("http", "https") or not urlparse(api_url).netloc:
        raise ConfigError("SLACK_API_URL must be an http(s) URL (example: https://slack.com/api/)")
    if not api_url.endswith("/"):
        api_url += "/"

    port_raw = get("PORT") or "3000"
    try:
        port = int(port_raw)
    except ValueError:
        raise ConfigError(f"PORT must be a number from 1 to 65535, not {port_raw!r}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"PORT must be a number from 1 to 65535, not {port_raw!r}")

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {log_level!r}")
    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be text or json, not {log_format!r}")

    burst, rate = _limit(get, "AIWINS_RATE", 5, 6)
    search_burst, search_rate = _limit(get, "AIWINS_SEARCH", 10, 20)

    token = get("SLACK_BOT_TOKEN")
    if token and not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")

    llm_base_url = get("LLM_BASE_URL")
    if llm_base_url and (urlparse(llm_base_url).scheme not in ("http", "https") or not urlparse(llm_base_url).netloc):
        raise ConfigError("LLM_BASE_URL must be an http(s) URL (example: https://api.openai.com/v1)")
    llm_model = get("LLM_MODEL")
    if bool(llm_base_url) != bool(llm_model):
        missing = "LLM_MODEL" if llm_base_url else "LLM_BASE_URL"
        raise ConfigError(f"{missing} is not set: the coach's model needs both LLM_BASE_URL and LLM_MODEL "
                          "(example: LLM_BASE_URL=http://localhost:11434/v1 LLM_MODEL=llama3.1)")

    return Settings(
        database_url=database_url,
        slack_bot_token=token,
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_api_url=api_url,
        port=port,
        slack_client_id=get("SLACK_CLIENT_ID"),
        slack_client_secret=get("SLACK_CLIENT_SECRET"),
        slack_app_token=app_token,
        log_level=log_level,
        log_format=log_format,
        metrics_token=get("METRICS_TOKEN"),
        rate_burst=burst,
        rate_per_minute=rate,
        search_burst=search_burst,
        search_per_minute=search_rate,
        llm_base_url=llm_base_url.rstrip("/") if llm_base_url else None,
        llm_api_key=get("LLM_API_KEY"),
        llm_model=llm_model,
    )


def _limit(get: Callable[[str], str | None], prefix: str, burst: int, per_minute: int) -> tuple[int, float]:
    """`<prefix>_BURST` and `<prefix>_PER_MINUTE`: a per-person limit's two numbers, checked."""
    burst_raw = get(f"{prefix}_BURST") or str(burst)
    if not burst_raw.isdigit() or not 0 < int(burst_raw) <= 10_000:
        raise ConfigError(f"{prefix}_BURST must be a whole number from 1 to 10000, not {burst_raw!r}")
    rate_raw = get(f"{prefix}_PER_MINUTE") or str(per_minute)
    try:
        rate = float(rate_raw)
    except ValueError:
        rate = -1.0
    if not 0 < rate <= 100_000:
        raise ConfigError(f"{prefix}_PER_MINUTE must be a number above 0 (e.g. {per_minute}), not {rate_raw!r}")
    return int(burst_raw), rate


class RedactSecrets(logging.Filter):
    """Masks any configured secret that slips into a log line (e.g. inside an exception message)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.secrets = [
            s
            for s in (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_client_secret,
                      settings.slack_app_token, settings.metrics_token, settings.llm_api_key)
            if s
        ]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                for s in self.secrets:
                    message = message.replace(s, "***")
                record.msg, record.args = message, None
        return True
