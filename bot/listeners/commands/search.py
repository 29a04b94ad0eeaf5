"""`/aiwin search <words> [tool:<name>] [#tag] [@person]`: thin (the App Home box: listeners/actions/search.py).

The search itself is bot/services/search.py; links to the messages come from Slack
(chat.getPermalink), so the answer is sent after the ack, privately."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.search import refused, search_message, slow_down_search, usage
from bot.deps import Deps
from bot.jobs.teachbacks import permalink
from bot.listeners.commands.router import Call
from bot.listeners.commands.teachbacks import trouble_reported
from bot.services.ratelimit import search_limits_of
from bot.services.search import Hit, Query, broader, parse_query, search, take_search, too_many_filters


def ack_search(call: Call, deps: Deps) -> dict[str, Any] | None:
    q = parse_query(call.text)
    if q.empty:
        return usage()
    problem = too_many_filters(q)
    if problem:
        return refused(problem)
    return None  # the answer comes after the ack, with links


def lazy_search(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    q = parse_query(call.text)
    if q.empty or too_many_filters(q):
        return  # answered in the ack
    with trouble_reported(respond, "/aiwin search", team=call.team_id, user=call.user_id):
        limited = over_limit(deps, call.team_id, call.user_id)
        if limited:
            respond(**limited)
            return
        hits, links = find(deps, client, call.team_id, call.user_id, q)
        respond(**search_message(q, hits, links, broader(q)))


def over_limit(deps: Deps, team_id: str, user_id: str) -> dict[str, Any] | None:
    """Take one search from the person's search bucket; the "slow down" answer when it is empty."""
    limits = search_limits_of(deps.settings)
    with deps.db.session(team_id) as session:
        wait = take_search(session, team_id, user_id, limits)
    return slow_down_search(wait, limits) if wait is not None else None


def find(deps: Deps, client: WebClient, team_id: str, user_id: str,
         q: Query) -> tuple[list[Hit], dict[tuple[str, int], str]]:
    with deps.db.read(team_id) as session:
        hits = search(session, team_id, user_id, q)
    links: dict[tuple[str, int], str] = {}
    for hit in hits:
        link = hit.permalink or permalink(client, team_id, hit.channel, hit.ts)
        if link:
            links[(hit.kind, hit.id)] = link
    return hits, links
