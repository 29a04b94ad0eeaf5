"""Conversations, according to Slack: a thin adapter over conversations.info / conversations.join so
services can ask without knowing about Slack clients (bot/services/channels.py)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.errors import NOT_ALLOWED, NOT_IN_CHANNEL

# Answers Slack will keep giving for this conversation or install; anything else (rate limits,
# 5xx) is raised so the job is retried.
_LASTING = NOT_IN_CHANNEL | NOT_ALLOWED | {"method_not_supported_for_channel_type"}


class Conversations:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def info(self, channel_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """(Slack's conversation object, None), or (None, the lasting error)."""
        try:
            return self.client.conversations_info(channel=channel_id)["channel"], None
        except SlackApiError as e:
            error = e.response.get("error")
            if error in _LASTING:
                return None, error
            raise

    def join(self, channel_id: str) -> str | None:
        """None when the bot is in the channel now (or was already), else the lasting error."""
        try:
            self.client.conversations_join(channel=channel_id)
            return None
        except SlackApiError as e:
            error = e.response.get("error")
            if error in _LASTING:
                return error
            raise
