"""`/aiwin adoption [@team]` (managers and admins), `adoption org` (an Enterprise Grid org's admins and
owners: every workspace of the org together) and `adoption teams [add|remove @group]` (admins add and
remove; anyone may list). Thin: the figures are bot/services/adoption.py's and figures.py's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.adoption import USAGE, adoption_message, org_adoption_message, org_refusal, refusal, teams_list
from bot.blocks.common import ephemeral
from bot.deps import Deps
from bot.directory import Directory
from bot.listeners.commands.leadership import friendly
from bot.listeners.commands.router import Call
from bot.models import utcnow
from bot.services import adoption, figures, people, workspaces
from bot.services.members import refresh_members


@dataclass(frozen=True)
class Ask:
    kind: str  # "view", "org", "list", "add", "remove"
    group_id: str | None = None
    group_name: str | None = None


def parse(text: str) -> Ask | str:
    """What `/aiwin adoption …` asks for, or a usage message."""
    word, _, rest = (text or "").strip().partition(" ")
    if not word:
        return Ask("view")
    if word.lower() in ("org", "organization", "organisation") and not rest.strip():
        return Ask("org")
    if word.lower() == "teams" or word.lower() == "team":
        verb, _, target = rest.strip().partition(" ")
        verb = verb.lower()
        if verb in ("", "list"):
            return Ask("list")
        if verb in ("add", "remove", "rm"):
            group = adoption.parse_group(target)
            if group is None:
                return f"Mention a Slack user group, e.g. `/aiwin adoption teams {verb} @design`."
            return Ask("add" if verb == "add" else "remove", *group)
        return USAGE
    group = adoption.parse_group(text)
    if group is not None:
        return Ask("view", *group)
    return USAGE


def ack_adoption(call: Call, deps: Deps) -> dict[str, Any] | None:
    ask = parse(call.text)
    if isinstance(ask, str):
        return ephemeral(ask)
    if ask.kind == "list":
        with deps.db.read(call.team_id) as session:
            return teams_list(adoption.list_teams(session, call.team_id))
    return None  # permission checks and the member list may need Slack: answered by the lazy part


@friendly
def lazy_adoption(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    ask = parse(call.text)
    if isinstance(ask, str) or ask.kind == "list":
        return  # answered in the ack
    directory = Directory(client)
    if ask.kind == "org":
        respond(**_org_adoption(call, deps, directory))
        return
    if ask.kind in ("add", "remove"):
        respond(**ephemeral(_change_team(call, deps, directory, ask)))
        return
    # At most daily, by a job (users.list takes many calls in a big workspace): the figures below use
    # the last whole copy, and say "not known yet" before the first one lands.
    if refresh_members(deps.db, call.team_id, call.enterprise_id):
        deps.notify_jobs()
    if not people.is_manager(deps.db, directory, call.team_id, call.user_id):
        with deps.db.read(call.team_id) as session:
            respond(**refusal(adoption.may_see(session, call.team_id)))
        return
    if ask.group_id:
        with deps.db.read(call.team_id) as session:
            known = adoption.is_team(session, call.team_id, ask.group_id)
        if not known:
            respond(**ephemeral(f"<!subteam^{ask.group_id}> is not a team for adoption figures yet. An admin "
                                f"can add it: `/aiwin adoption teams add @group`. `/aiwin adoption teams` lists "
                                "the teams."))
            return
        adoption.refresh_team(deps.db, directory, call.team_id, ask.group_id)
    slack_managers = people.managers_group_members(deps.db, directory, call.team_id)
    with deps.db.read(call.team_id) as session:
        figures = adoption.adoption_figures(session, call.team_id, manager_ids=slack_managers,
                                            group_id=ask.group_id)
    respond(**adoption_message(figures))


def _org_adoption(call: Call, deps: Deps, directory: Directory) -> dict[str, Any]:
    if not call.enterprise_id or not people.is_org_admin(directory, call.user_id):
        return org_refusal(in_org=bool(call.enterprise_id))
    with deps.db.read() as session:
        teams = workspaces.org_workspaces(session, call.enterprise_id, installed=True)
    if any([refresh_members(deps.db, team, call.enterprise_id) for team in teams]):  # each at most daily
        deps.notify_jobs()
    period = figures.last_weeks(utcnow(), figures.SHORT_WEEKS)
    parts = []
    for team in teams:  # each workspace's rows in its own session: data stays per workspace
        with deps.db.read(team) as session:
            parts.append(figures.org_part(session, team, period))
    return org_adoption_message(figures.org_figures(period, parts, teams))


def _change_team(call: Call, deps: Deps, directory: Directory, ask: Ask) -> str:
    if not people.is_admin(deps.db, directory, call.team_id, call.user_id):
        return ("Sorry, only workspace admins and owners can choose the teams. "
                "Anyone can list them with `/aiwin adoption teams`.")
    assert ask.group_id is not None
    if ask.kind == "remove":
        with deps.db.session(call.team_id) as session:
            gone = adoption.remove_team(session, call.team_id, ask.group_id)
        return (f"Done: <!subteam^{ask.group_id}> is no longer a team for adoption figures." if gone
                else f"<!subteam^{ask.group_id}> was not a team, so nothing changed.")
    users = directory.usergroup_members(ask.group_id)
    if users is None:
        return (f"I can't read the members of <!subteam^{ask.group_id}> (the app needs the `usergroups:read` "
                "scope), so it was not added.")
    with deps.db.session(call.team_id) as session:
        created = adoption.add_team(session, call.team_id, call.enterprise_id, ask.group_id, ask.group_name,
                                    users, added_by=call.user_id)
    verb = "is now a team" if created else "is already a team; its members were refreshed"
    return (f"Done: <!subteam^{ask.group_id}> {verb} ({len(set(users))} members). "
            f"See it with `/aiwin adoption <!subteam^{ask.group_id}>`.")
