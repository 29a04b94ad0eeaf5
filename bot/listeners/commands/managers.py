"""`/aiwin managers` (who they are) and `managers add|remove @…`, `managers group @group|off` (admins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral, mentions
from bot.blocks.teachbacks import MANAGERS_USAGE, manager_list
from bot.deps import Deps
from bot.listeners.commands.router import Call
from bot.listeners.commands.teachbacks import LATER, trouble_reported
from bot.services import managers, people
from bot.services.wintext import parse_win_text
from bot.slack.directory import Directory

REFUSAL = ("Sorry, only workspace admins can change who the managers are. "
           "`/aiwin managers` shows who they are.")


@dataclass(frozen=True)
class Change:
    kind: str  # "add", "remove" or "group"
    user_ids: tuple[str, ...] = ()
    group_id: str | None = None  # for "group": None clears it


def parse_change(text: str) -> Change | str | None:
    """What `managers …` asks for: None for the list, a Change, or a usage message for bad input."""
    word, _, rest = (text or "").strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if not word or word == "list":
        return None
    if word in ("add", "remove", "rm", "delete"):
        # <@U…>, <@W…|name>: the same mention rules as wins.
        users = parse_win_text(rest).recipients[: managers.MAX_PER_CHANGE]
        if not users:
            verb = "add" if word == "add" else "remove"
            return f"Mention the people, e.g. `/aiwin managers {verb} @alice @bob`."
        return Change("add" if word == "add" else "remove", users)
    if word == "group":
        if rest.lower() in ("off", "none", "clear"):
            return Change("group")
        group = managers.parse_usergroup(rest)
        if group is None:
            return ("Mention a user group, e.g. `/aiwin managers group @team-leads` "
                    "(or `group off` to clear it).")
        return Change("group", group_id=group)
    return MANAGERS_USAGE


def ack_managers(call: Call, deps: Deps) -> dict[str, Any] | str:
    change = parse_change(call.text)
    if change is None:
        with deps.db.read(call.team_id) as session:
            return manager_list(managers.list_managers(session, call.team_id))
    if isinstance(change, str):
        return ephemeral(change)
    return LATER  # a change: the admin check may ask Slack, so it happens after the ack


def lazy_managers(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    change = parse_change(call.text)
    if not isinstance(change, Change):
        return  # answered in the ack
    with trouble_reported(respond, "/aiwin managers", team=call.team_id, user=call.user_id, kind=change.kind):
        if not people.is_admin(deps.db, Directory(client), call.team_id, call.user_id):
            respond(**ephemeral(REFUSAL))
            return
        respond(**ephemeral(apply(call, deps, change)))


def apply(call: Call, deps: Deps, change: Change) -> str:
    with deps.db.session(call.team_id) as session:
        if change.kind == "add":
            done = managers.add_managers(session, team_id=call.team_id, enterprise_id=call.enterprise_id,
                                         user_ids=change.user_ids, added_by=call.user_id)
        elif change.kind == "remove":
            done = managers.remove_managers(session, change.user_ids)
        else:
            previous = managers.set_managers_group(session, team_id=call.team_id,
                                                   enterprise_id=call.enterprise_id, group_id=change.group_id)
    if change.kind == "group":
        people.forget_group(call.team_id, previous)
        people.forget_group(call.team_id, change.group_id)
        if change.group_id is None:
            return ("Done: there's no managers user group any more. "
                    "Managers on the list and admins stay managers.")
        return f"Done: members of <!subteam^{change.group_id}> are now managers."
    unchanged = tuple(u for u in change.user_ids if u not in done)
    if change.kind == "add":
        text = f"Done: {mentions(list(done))} can now nominate teach-backs." if done else ""
        if unchanged:
            text += f" {mentions(list(unchanged))} {_was(unchanged)} already on the list."
        return text.strip()
    text = f"Done: {mentions(list(done))} {'is' if len(done) == 1 else 'are'} off the list." if done else ""
    if unchanged:
        text += (f" {mentions(list(unchanged))} {_was(unchanged)} not on the list "
                 "(admins and the managers group's members are managers through Slack).")
    return text.strip()


def _was(users: tuple[str, ...]) -> str:
    return "was" if len(users) == 1 else "were"
