"""`/aiwin optout`, `/aiwin optin` and `/aiwin delete`: people's control over their data (the work is in
bot/services/data_control.py). An author deletes their own win at once; anyone else waits for the admin
check, in the lazy part, which answers with `respond`."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral, section
from bot.deps import Deps
from bot.listeners.commands.router import ADMINS, Call, caller_is_admin, friendly
from bot.services.data_control import delete_win, opt_out, parse_win_id, win_author


def optout_ack(call: Call, deps: Deps) -> dict:
    with deps.db.session(call.team_id) as session:
        changed = opt_out(session, call.team_id, call.user_id, True)
    deps.wake_worker()
    lead = "You're opted out." if changed else "You were already opted out."
    return ephemeral(lead, [section(
        f":see_no_evil: {lead} You won't be named in digests, lists or anywhere others look, and I won't ask "
        "you questions by DM. Your wins still count in the team's figures, without your name. "
        "Your own Home tab still shows them. "
        "`/aiwin optin` brings you back; `/aiwin export mine` gives you a copy of your data."
    )])


def optin_ack(call: Call, deps: Deps) -> dict:
    with deps.db.session(call.team_id) as session:
        changed = opt_out(session, call.team_id, call.user_id, False)
    deps.wake_worker()
    lead = "Welcome back!" if changed else "You're already in."
    return ephemeral(lead, [section(f":wave: {lead} Digests and lists name you again.")])


DELETE_USAGE = ("Which win? Give its number, like `/aiwin delete 42` "
                "(it's at the bottom of the win's message).")


def _deleted(win_id: int) -> dict:
    return ephemeral(f":wastebasket: Deleted win #{win_id}. It's gone from every figure, digest and export, "
                     "and its celebration now says it was removed.")


def delete_ack(call: Call, deps: Deps) -> dict | None:
    """Authors delete their own wins at once; anyone else waits for the admin check (lazy)."""
    win_id = parse_win_id(call.text)
    if win_id is None:
        return ephemeral(DELETE_USAGE)
    with deps.db.session(call.team_id) as session:
        author = win_author(session, win_id)
        if author is None:
            return ephemeral(f"There's no win #{win_id} in this workspace. {DELETE_USAGE}")
        if author != call.user_id:
            return None  # only an admin may: the lazy part checks
        delete_win(session, call.team_id, win_id, call.user_id, is_admin=False)
    deps.wake_worker()
    return _deleted(win_id)


@friendly
def delete_lazy(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    win_id = parse_win_id(call.text)
    if win_id is None:
        return
    with deps.db.read(call.team_id) as session:
        author = win_author(session, win_id)
    if author is None or author == call.user_id:
        return  # answered in the ack (no such win, or its author deleted it there)
    if not caller_is_admin(call, deps, client):
        respond(**ephemeral(f"Only the person who logged win #{win_id} (<@{author}>) or {ADMINS} "
                            "can delete it, so it stays."))
        return
    with deps.db.session(call.team_id) as session:
        result = delete_win(session, call.team_id, win_id, call.user_id, is_admin=True)
    deps.wake_worker()
    gone = ephemeral(f"There's no win #{win_id} anymore.")  # someone deleted it meanwhile
    respond(**(_deleted(win_id) if result.status == "deleted" else gone))
