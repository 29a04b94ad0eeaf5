"""`/aiwin stats`: answered at once from the database; the lazy part freshens what the figures read."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.stats import stats_message
from bot.deps import Deps
from bot.listeners.commands.router import Call
from bot.services import people
from bot.services.members import refresh_members
from bot.services.stats import stats_report
from bot.slack.directory import Directory

log = logging.getLogger(__name__)


def stats_ack(call: Call, deps: Deps) -> dict:
    """Answered at once from the database (time zone and member list as last cached)."""
    with deps.db.read(call.team_id) as session:
        report = stats_report(session, call.team_id, call.user_id)
    return stats_message(report)


def stats_lazy(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    """Freshen the caller's time zone and, at most daily, the member list behind coverage (copied by
    a job: users.list takes many calls in a big workspace)."""
    directory = Directory(client)
    try:
        people.person(deps.db, directory, call.team_id, call.user_id)
        if refresh_members(deps.db, call.team_id, call.enterprise_id):
            deps.wake_worker()
    except Exception:
        log.warning("refreshing people for stats failed (team=%s user=%s)", call.team_id, call.user_id,
                    exc_info=True)
