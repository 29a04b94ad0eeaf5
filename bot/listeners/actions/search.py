"""The App Home search box: Enter in the input, or the Search button, opens the results in a modal.

The results link to their messages (chat.getPermalink, one call per hit not seen before), which
can outlast the click's 3-second trigger: a "Searching…" view opens first and the results replace
it. App Home has no response_url, so a form that cannot open is explained by DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.search import (
    SEARCH_ACTION,
    SEARCH_BLOCK,
    SEARCH_INPUT,
    SEARCH_ONE_LINE,
    message_modal,
    refused,
    results_modal,
    searching_modal,
)
from bot.deps import Deps
from bot.listeners.commands.search import find, over_limit
from bot.listeners.modals import dm_with, open_modal, open_then_fill
from bot.services.search import broader, parse_query, too_many_filters


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
    tell = dm_with(client, context.user_id)
    if q.empty:  # nothing to look up: how to search, at once
        open_modal(client, body.get("trigger_id"), results_modal(q, [], {}, None), what="search",
                   one_line=SEARCH_ONE_LINE, tell=tell)
        return
    problem = too_many_filters(q)
    if problem:  # said at once (pure code), nothing searched
        open_modal(client, body.get("trigger_id"), message_modal(refused(problem)), what="search",
                   one_line=SEARCH_ONE_LINE, tell=tell)
        return

    def results() -> dict[str, Any]:
        # The person's search limit is a database write: taken here, where a failure is shown in the form.
        limited = over_limit(deps, context.team_id, context.user_id)
        if limited:
            return message_modal(limited)
        hits, links = find(deps, client, context.team_id, context.user_id, q)
        return results_modal(q, hits, links, broader(q))

    open_then_fill(client, body.get("trigger_id"), searching_modal(q), results, what="search",
                   one_line=SEARCH_ONE_LINE, tell=tell)


def register(app: App) -> None:
    for action_id in (SEARCH_ACTION, SEARCH_INPUT):
        app.action(action_id)(ack=ack_only, lazy=[home_search])
