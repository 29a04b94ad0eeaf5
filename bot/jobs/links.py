"""The workspace's own address (`https://acme.slack.com/`), for message links built without asking
Slack for each one (the digest's "see the win"). Read once per workspace from `auth.test`, the same
domain chat.getPermalink uses, so every link the bot writes points into the workspace's domain."""

from __future__ import annotations

import logging
import re
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

_URL_RE = re.compile(r"https://[a-z0-9][a-z0-9.-]*\.slack\.com/", re.IGNORECASE)
_urls: dict[tuple[str, str], str] = {}  # (API base URL, team id) → address
_lock = threading.Lock()


def workspace_url(client: WebClient, team_id: str) -> str | None:
    """`https://<domain>.slack.com/` for `team_id` (auth.test, remembered); None when Slack won't say."""
    key = (client.base_url, team_id)
    with _lock:
        if key in _urls:
            return _urls[key]
    try:
        url = str(client.auth_test().get("url") or "")
    except SlackApiError as e:
        log.info("no workspace url for %s: %s", team_id, e.response.get("error"))
        return None
    except Exception:  # an unreachable Slack only costs the links their domain
        log.info("no workspace url for %s: Slack unreachable", team_id)
        return None
    if not _URL_RE.fullmatch(url):
        return None
    with _lock:
        _urls[key] = url
    return url
