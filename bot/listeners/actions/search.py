"""The App Home search box: Enter in the input, or the Search button, opens the results in a modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.search import SEARCH_ACTION, SEARCH_BLOCK, SEARCH_INPUT, results_modal
from bot.deps import Deps
from bot.listeners.commands.search import find
from bot.listeners.commands.teachbacks import trouble_reported
from bot.services.search import broader, parse_query


def _home_query(body: dict[str, Any]) -> str:
    action = (body.get("actions") or [{}])[0]
    if action.get("action_id") == SEARCH_INPUT:
        return action.get("value") or ""
    values = (((body.get("view") or {}).get("state") or {}).get("values") or {}).get(SEARCH_BLOCK) or {}
    return (values.get(SEARCH_INPUT) or {}).get("value") or ""


def ack_only(ack: Ack) -> None:
    ack()


def home_search(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    deps: Deps = context["deps"]
    q = parse_query(_home_query(body))
    with trouble_reported(None, "App Home search", team=context.team_id, user=context.user_id):
        hits, links = find(deps, client, context.team_id, context.user_id, q) if not q.empty else ([], {})
        client.views_open(trigger_id=body["trigger_id"], view=results_modal(q, hits, links, broader(q)))


def register(app: App) -> None:
    for action_id in (SEARCH_ACTION, SEARCH_INPUT):
        app.action(action_id)(ack=ack_only, lazy=[home_search])


