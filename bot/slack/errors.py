"""Slack's error names (the `error` of a Web API answer), grouped by what they mean to the app. Callers
combine these groups rather than writing names out; the job worker turns them into its outcomes
(bot/jobs/worker.py `_slack_error`): "gone" (but a refused token) and "not in channel" fail the job at once
(trying again cannot help until a person does something); anything else is retried.

Only names: no Slack client here, so services may use them too."""

from __future__ import annotations

from typing import Any

# The token cannot act any more: the app was removed, the token revoked, its installer deactivated.
TOKEN_GONE = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})
# The token is refused now but a refresh makes a new one (token rotation): retried, not "gone".
TOKEN_EXPIRED = frozenset({"token_expired"})
# Every answer that means "Slack refuses this token" (what /healthz and `aiwins digest --post` report).
TOKEN_REFUSED = TOKEN_GONE | TOKEN_EXPIRED
# The token may not make this call (a scope the install lacks, a user token needed).
NOT_ALLOWED = frozenset({"missing_scope", "not_allowed_token_type"})
# The person cannot be reached (or no longer exists, or cannot be seen from this workspace).
PERSON_GONE = frozenset({"user_not_found", "user_not_visible", "user_disabled", "account_inactive", "cannot_dm_bot",
                         "messages_tab_disabled"})
# The message (or thread) to update or reply to is gone, or cannot be changed by the bot.
MESSAGE_GONE = frozenset({"message_not_found", "thread_not_found", "cant_update_message", "cannot_reply_to_message"})
# A Workflow step's run that has ended (or never was).
EXECUTION_GONE = frozenset({"execution_not_in_running_state", "function_execution_not_found"})
# Slack refused the message itself: sending it again as it is cannot help.
MESSAGE_REFUSED = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text"})

# "Gone": what the call addresses, or the token it uses, is no more.
GONE = TOKEN_GONE | NOT_ALLOWED | PERSON_GONE | MESSAGE_GONE | EXECUTION_GONE

# "Not in channel": the bot cannot post there until a person invites it, unarchives the channel or
# changes who may post (private channels need an invite; Slack hides them as channel_not_found).
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action",
                            "ekm_access_denied", "team_access_not_granted"})

# "Retry later": Slack is busy or failed on its side; the same call may well work in a while.
RETRY_LATER = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# (token_expired is retried too, as any name in no group is: TOKEN_EXPIRED above.)

# Trying the same call again cannot help: the job that made it fails at once. A refused token is not in it:
# an operator may fix SLACK_BOT_TOKEN (or Slack accept the token again), and what was waiting then goes out;
# an uninstall cancels the workspace's jobs anyway (bot/services/uninstall.py).
PERMANENT = (GONE - TOKEN_GONE) | NOT_IN_CHANNEL | MESSAGE_REFUSED


def error_of(e: Any) -> str | None:
    """The `error` of a SlackApiError's answer (None when Slack sent none, e.g. an HTTP 5xx page)."""
    return e.response.get("error") or None


def retry_after(e: Any) -> float | None:
    """Seconds Slack asked us to wait (HTTP 429, or `ratelimited`), or None when it is not a rate limit."""
    if e.response.status_code != 429 and e.response.get("error") != "ratelimited":
        return None
    raw = e.response.headers.get("Retry-After") or e.response.headers.get("retry-after") or "1"
    try:
        return max(0.0, float(raw if not isinstance(raw, list) else raw[0]))
    except ValueError:
        return 1.0
