"""`/aiwin teachbacks` (open teach-backs), `teachbacks done <id>`, `teachbacks emoji <name>` (admins)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.blocks.teachbacks import done_message, teachback_list, transition_reply
from bot.deps import Deps
from bot.listeners.commands.router import Call
from bot.services import people
from bot.services import teachbacks as tb
from bot.slack.directory import Directory
from bot.slack.links import permalink

log = logging.getLogger(__name__)

LIST_LIMIT = 20
# The ack of a subcommand whose answer comes from its lazy part: Bolt sends an empty 200 for "",
# while it refuses ack(None) (which the router would pass for None).
LATER = ""
SORRY = ":warning: Sorry, something went wrong on our side. Please try again in a minute."
USAGE = ("*Teach-backs* — managers react :mortar_board: on a win to nominate its owner to show the team how "
         "they did it. Examples:\n"
         "• `/aiwin teachbacks` — the open ones\n"
         "• `/aiwin teachbacks done 12` — mark #12 done (its owner or a manager)\n"
         "• `/aiwin teachbacks emoji trophy` — nominate with another emoji (admins)")


@contextmanager
def trouble_reported(respond: Respond | None, what: str, **where: Any) -> Iterator[None]:
    """Run the slow part of a command or button; if it fails, log it and tell the person kindly."""
    try:
        yield
    except Exception:
        log.exception("%s failed (%s)", what, ", ".join(f"{k}={v}" for k, v in where.items()))
        if respond is None:  # e.g. a button in App Home: there is no response_url to answer on
            return
        respond(**ephemeral(SORRY), replace_original=False)


def parse_id(text: str) -> int | None:
    word = (text or "").strip().lstrip("#")
    return int(word) if word.isdigit() and len(word) < 18 else None


def _parts(call: Call) -> tuple[str, str]:
    word, _, rest = call.text.strip().partition(" ")
    return word.lower(), rest.strip()


def ack_teachbacks(call: Call, deps: Deps) -> dict[str, Any] | str:
    word, rest = _parts(call)
    needs_slack = word == "" or (word == "done" and parse_id(rest) is not None) or (
        word == "emoji" and tb.valid_emoji(rest) is not None)
    if needs_slack:
        return LATER  # these need Slack (permalinks, permissions)
    if word == "done":
        return ephemeral("Which teach-back? Give its number, e.g. `/aiwin teachbacks done 12` "
                         "(numbers are in `/aiwin teachbacks`).")
    if word == "emoji":
        return ephemeral("Give an emoji name, e.g. `/aiwin teachbacks emoji trophy` or `:star:`.")
    return ephemeral(USAGE)


def lazy_teachbacks(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    word, rest = _parts(call)
    with trouble_reported(respond, "/aiwin teachbacks", team=call.team_id, user=call.user_id, text=word):
        if word == "":
            list_open(call, deps, client, respond)
        elif word == "done" and (teachback_id := parse_id(rest)) is not None:
            done(call, deps, client, respond, teachback_id)
        elif word == "emoji" and (emoji := tb.valid_emoji(rest)):
            set_emoji(call, deps, client, respond, emoji)


def list_open(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    with deps.db.read(call.team_id) as session:
        hidden = people.opted_out_ids(session) - {call.user_id}
        items, total = tb.open_teachbacks(session, limit=LIST_LIMIT, hidden=hidden, viewer=call.user_id,
                                          channel_id=call.channel_id or None)
        emoji = tb.teachback_emoji(session, call.team_id)
    links = {}
    for item in items:
        if item.win.id not in links:
            win = item.win
            links[win.id] = permalink(client, call.team_id, win.message_channel, win.message_ts)
    respond(**teachback_list(items, total, {k: v for k, v in links.items() if v}, emoji=emoji))


def done(call: Call, deps: Deps, client: WebClient, respond: Respond, teachback_id: int) -> None:
    transition = mark_done(deps, client, call.team_id, teachback_id, call.user_id)
    if transition.outcome == "ok" and transition.teachback:
        respond(**ephemeral(done_message(transition.teachback)["text"]))
    else:
        respond(**ephemeral(transition_reply(transition.outcome, transition.teachback)))


def mark_done(deps: Deps, client: WebClient, team_id: str, teachback_id: int, user_id: str) -> tb.Transition:
    """Its owner, or any manager, marks a teach-back done (shared by the command and the button)."""
    with deps.db.read(team_id) as session:
        view = tb.get_teachback(session, teachback_id)
    if view is None:
        return tb.Transition("not_found")
    manager = view.owner_id != user_id and people.is_manager(deps.db, Directory(client), team_id, user_id)
    with deps.db.session(team_id) as session:
        return tb.mark_done(session, teachback_id, user_id, is_manager=manager)


def set_emoji(call: Call, deps: Deps, client: WebClient, respond: Respond, emoji: str) -> None:
    if not people.is_admin(deps.db, Directory(client), call.team_id, call.user_id):
        respond(**ephemeral("Sorry, only workspace admins can change the teach-back emoji."))
        return
    with deps.db.session(call.team_id) as session:
        tb.set_teachback_emoji(session, team_id=call.team_id, enterprise_id=call.enterprise_id, emoji=emoji)
    respond(**ephemeral(f"Done: managers now nominate a teach-back by reacting :{emoji}: on a win's "
                        "celebration. New celebrations will say so."))
