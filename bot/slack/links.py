"""Links into a workspace. `permalink`: a message's link (chat.getPermalink). `workspace_url`: the
workspace's own address (`https://acme.slack.com/`), for message links built without asking Slack for
each one (the digest's "see the win"); read from `auth.test` and remembered for a day, the same domain
chat.getPermalink uses, so every link the bot writes points into the workspace's domain."""

from __future__ import annotations

import logging
import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cache import FOREVER, TTLMemo

log = logging.getLogger(__name__)

_URL_RE = re.compile(r"https://[a-z0-9][a-z0-9.-]*\.slack\.com/", re.IGNORECASE)
# (API base URL, team id) → address; a day, since a workspace may rename its domain.
_urls: TTLMemo[tuple[str, str], str] = TTLMemo(ttl=24 * 3600.0)


def workspace_url(client: WebClient, team_id: str) -> str | None:
    """`https://<domain>.slack.com/` for `team_id` (auth.test, remembered); None when Slack won't say."""
    return _urls.get_or_load((client.base_url, team_id), lambda: _ask_workspace_url(client, team_id))


def _ask_workspace_url(client: WebClient, team_id: str) -> str | None:
    try:
        url = str(client.auth_test().get("url") or "")
    except SlackApiError as e:
        log.info("no workspace url for %s: %s", team_id, e.response.get("error"))
        return None
    except Exception:  # an unreachable Slack only costs the links their domain
        log.info("no workspace url for %s: Slack unreachable", team_id)
        return None
    return url if _URL_RE.fullmatch(url) else None


_permalinks: TTLMemo[tuple[str, str, str], str] = TTLMemo(ttl=FOREVER)  # permalinks never change


def permalink(client: WebClient, team_id: str, channel: str | None, ts: str | None) -> str | None:
    """A link to a message (chat.getPermalink, remembered); None if unknown."""
    if not channel or not ts:
        return None

    def ask() -> str | None:
        try:
            return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink") or None
        except SlackApiError as e:
            log.info("no permalink for %s/%s: %s", channel, ts, e.response.get("error"))
            return None

    return _permalinks.get_or_load((team_id, channel, ts), ask)
