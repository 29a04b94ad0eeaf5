"""Who people are, according to Slack: a thin adapter over users.info / users.list /
usergroups.users.list so services can ask without knowing about Slack clients (and tests can hand
in their own)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.errors import PERSON_GONE

log = logging.getLogger(__name__)


class Directory:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def user(self, user_id: str) -> dict[str, Any] | None:
        """Slack's user object, or None when Slack says there is no such user."""
        try:
            return self.client.users_info(user=user_id)["user"]
        except SlackApiError as e:
            if e.response.get("error") in PERSON_GONE:
                return None
            raise

    def usergroup_members(self, group_id: str) -> list[str] | None:
        try:
            return list(self.client.usergroups_users_list(usergroup=group_id).get("users") or [])
        except SlackApiError as e:
            if e.response.get("error") in ("no_such_subteam", "subteam_not_found", "missing_scope"):
                log.warning("user group %s cannot be read: %s", group_id, e.response.get("error"))
                return None
            raise

    def member_page(self, cursor: str | None, *, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """One page of users.list: its members and the cursor of the next page (None after the last).
        One call, so the caller decides what a 429 or an error in the middle of a walk means."""
        page = self.client.users_list(limit=limit, cursor=cursor or None)
        next_cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        return list(page.get("members") or []), next_cursor
