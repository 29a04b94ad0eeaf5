"""Saving the settings modals opened from App Home (policy, teach-back emoji, managers).

The ack part checks the fields (errors show next to them); the lazy part checks that the person
is an admin (that needs Slack, so it cannot hold up the ack), saves, and republishes their Home."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.blocks.home import EMOJI_MODAL, MANAGERS_MODAL, POLICY_MODAL
from bot.deps import Deps
from bot.listeners.views.win_modal import state_value
from bot.services import people
from bot.services.home import (
    SettingError,
    clean_emoji,
    enqueue_home_refresh,
    set_managers,
    set_teachback_emoji,
)
from bot.services.policy import PolicyError, clean_text, clean_url, set_policy
from bot.services.storable import storable_values
from bot.slack.directory import Directory

log = logging.getLogger(__name__)

REFUSED = ("Only workspace admins and owners can change AI Wins settings, so nothing was changed. "
           "Ask one of them if something should be different.")


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return storable_values(view.get("state", {}).get("values", {}))


def _policy_fields(view: dict[str, Any]) -> tuple[tuple[str | None, str | None], dict[str, str]]:
    values, errors = _values(view), {}
    text = url = None
    try:
        text = clean_text(state_value(values, "policy_text"))
    except PolicyError as e:
        errors["policy_text"] = str(e)
    try:
        url = clean_url(state_value(values, "policy_url"))
    except PolicyError as e:
        errors["policy_url"] = str(e)
    return (text, url), errors


def ack_policy(ack: Ack, view: dict[str, Any]) -> None:
    _, errors = _policy_fields(view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()


def ack_emoji(ack: Ack, view: dict[str, Any]) -> None:
    try:
        clean_emoji(state_value(_values(view), "emoji"))
    except SettingError as e:
        ack(response_action="errors", errors={"emoji": str(e)})
        return
    ack()


def ack_managers(ack: Ack) -> None:
    ack()


def _save_as_admin(body: dict[str, Any], context: BoltContext, client: WebClient,
                   save: Callable[[Session, str, str | None, str], None]) -> None:
    deps: Deps = context["deps"]
    team_id = context.team_id or body.get("team", {}).get("id")
    user_id = body["user"]["id"]
    try:
        if not people.is_admin(deps.db, Directory(client), team_id, user_id):
            client.chat_postMessage(channel=user_id, text=REFUSED)
            return
        with deps.db.session(team_id) as session:
            save(session, team_id, context.enterprise_id, user_id)
            enqueue_home_refresh(session, team_id, [user_id], enterprise_id=context.enterprise_id)
        deps.wake_worker()
    except Exception:
        log.exception("saving settings from App Home failed (team=%s user=%s)", team_id, user_id)
        client.chat_postMessage(channel=user_id, text=":warning: Sorry, the setting could not be saved. "
                                                      "Please try again in a minute.")


def save_policy(body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    (text, url), errors = _policy_fields(view)
    if errors:
        return  # the ack showed them next to the fields (Bolt runs lazy parts whatever the ack said)

    def save(session: Session, team_id: str, enterprise_id: str | None, user_id: str) -> None:
        set_policy(session, team_id=team_id, enterprise_id=enterprise_id, user_id=user_id, text=text, url=url)

    _save_as_admin(body, context, client, save)


def save_emoji(body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    try:
        emoji = clean_emoji(state_value(_values(view), "emoji"))
    except SettingError:
        return  # the ack showed the error next to the field (Bolt runs lazy parts whatever the ack said)

    def save(session: Session, team_id: str, enterprise_id: str | None, user_id: str) -> None:
        set_teachback_emoji(session, team_id, enterprise_id, emoji)

    _save_as_admin(body, context, client, save)


def save_managers(body: dict[str, Any], view: dict[str, Any], context: BoltContext,
                  client: WebClient) -> None:
    chosen = list(state_value(_values(view), "managers") or [])

    def save(session: Session, team_id: str, enterprise_id: str | None, user_id: str) -> None:
        set_managers(session, team_id, enterprise_id, chosen, added_by=user_id)

    _save_as_admin(body, context, client, save)


def register(app: App) -> None:
    app.view(POLICY_MODAL)(ack=ack_policy, lazy=[save_policy])
    app.view(EMOJI_MODAL)(ack=ack_emoji, lazy=[save_emoji])
    app.view(MANAGERS_MODAL)(ack=ack_managers, lazy=[save_managers])
