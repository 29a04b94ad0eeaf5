"""`/aiwin stats`, `policy`, `export`, `optout`/`optin` and `delete`: thin; the work is in bot/services.

The ack parts touch only the database and answer at once. Only an admin check can need Slack
(users.info), so those cases acknowledge with an empty 200 and decide in the lazy part, which
answers with `respond`."""

from __future__ import annotations

import functools
import logging

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral, section
from bot.blocks.policy import policy_message, policy_saved
from bot.blocks.stats import stats_message
from bot.deps import Deps
from bot.listeners.commands.router import Call, LazyFn
from bot.models.queue import enqueue
from bot.services import people
from bot.services.export import EXPORT
from bot.services.home import enqueue_home_refresh
from bot.services.members import refresh_members
from bot.services.policy import EXAMPLE, PolicyError, parse_command_policy, policy_summary, set_policy
from bot.services.privacy import delete_win, opt_out, parse_win_id, win_author
from bot.services.stats import stats_report
from bot.slack.directory import Directory

log = logging.getLogger(__name__)

SORRY = (":warning: Sorry, something went wrong on our side and nothing was changed. "
         "Please try again in a minute.")
ADMINS = "workspace admins and owners"


def friendly(fn: LazyFn) -> LazyFn:
    """A lazy part that fails tells the caller so (never the exception), and logs it with context."""

    @functools.wraps(fn)
    def run(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
        try:
            fn(call, deps, client, respond)
        except Exception:
            log.exception("/aiwin %s failed (team=%s user=%s)", fn.__name__, call.team_id, call.user_id)
            respond(**ephemeral(SORRY))

    return run


def _is_admin(call: Call, deps: Deps, client: WebClient) -> bool:
    return people.is_admin(deps.db, Directory(client), call.team_id, call.user_id)


# -- stats -------------------------------------------------------------------------------------------------


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
            deps.notify_jobs()
    except Exception:
        log.warning("refreshing people for stats failed (team=%s user=%s)", call.team_id, call.user_id,
                    exc_info=True)


# -- policy -----------------------------------------------------------------------------------------------

POLICY_USAGE = (f"See the AI policy with `/aiwin policy`. Admins set it with `{EXAMPLE}` "
                "(a link, text, or both).")


def _policy_args(call: Call) -> tuple[str, str]:
    word, _, rest = call.text.strip().partition(" ")
    return word.lower(), rest.strip()


def policy_ack(call: Call, deps: Deps) -> dict | None:
    word, rest = _policy_args(call)
    if not word:
        with deps.db.read(call.team_id) as session:
            return policy_message(policy_summary(session, call.team_id))
    if word != "set":
        return ephemeral(POLICY_USAGE)
    try:
        parse_command_policy(rest)
    except PolicyError as e:
        return ephemeral(f":warning: {e}")
    return None  # the admin check may ask Slack: the lazy part saves or refuses


@friendly
def policy_lazy(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    word, rest = _policy_args(call)
    try:
        text, url = parse_command_policy(rest)
    except PolicyError:
        return  # answered in the ack
    if word != "set":
        return
    if not _is_admin(call, deps, client):
        respond(**ephemeral(f"Only {ADMINS} can change the AI policy, so nothing was changed. Ask one of "
                            "them; anyone can read it with `/aiwin policy`."))
        return
    with deps.db.session(call.team_id) as session:
        view = set_policy(session, team_id=call.team_id, enterprise_id=call.enterprise_id,
                          user_id=call.user_id, text=text, url=url)
        enqueue_home_refresh(session, call.team_id, [call.user_id], enterprise_id=call.enterprise_id)
    deps.notify_jobs()
    respond(**policy_saved(view))


# -- export ------------------------------------------------------------------------------------------------

EXPORT_USAGE = ("Try `/aiwin export mine` for your own wins, narratives and teach-backs, or `/aiwin export` "
                f"for the whole workspace ({ADMINS}).")


def _queue_export(call: Call, deps: Deps, *, mine: bool) -> dict:
    with deps.db.session(call.team_id) as session:
        enqueue(session, team_id=call.team_id, enterprise_id=call.enterprise_id, kind=EXPORT,
                payload={"user_id": call.user_id, "mine": mine},
                dedupe_key=f"export:{call.trigger_id}" if call.trigger_id else None)
    deps.notify_jobs()
    what = "your own data" if mine else "the workspace's wins, narratives and teach-backs"
    return ephemeral(f":package: Preparing CSV files of {what}. I'll send them to you in a DM shortly.")


def export_ack(call: Call, deps: Deps) -> dict | None:
    arg = call.text.strip().lower()
    if arg == "mine":
        return _queue_export(call, deps, mine=True)
    if arg:
        return ephemeral(EXPORT_USAGE)
    return None  # the whole workspace: the lazy part checks that the caller is an admin


@friendly
def export_lazy(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    if call.text.strip():
        return  # answered in the ack
    if not _is_admin(call, deps, client):
        respond(**ephemeral(f"Only {ADMINS} can export the whole workspace. You can export your own "
                            "data with `/aiwin export mine`."))
        return
    respond(**_queue_export(call, deps, mine=False))


# -- privacy -----------------------------------------------------------------------------------------------


def optout_ack(call: Call, deps: Deps) -> dict:
    with deps.db.session(call.team_id) as session:
        changed = opt_out(session, call.team_id, call.user_id, True)
    deps.notify_jobs()
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
    deps.notify_jobs()
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
    deps.notify_jobs()
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
    if not _is_admin(call, deps, client):
        respond(**ephemeral(f"Only the person who logged win #{win_id} (<@{author}>) or {ADMINS} "
                            "can delete it, so it stays."))
        return
    with deps.db.session(call.team_id) as session:
        result = delete_win(session, call.team_id, win_id, call.user_id, is_admin=True)
    deps.notify_jobs()
    gone = ephemeral(f"There's no win #{win_id} anymore.")  # someone deleted it meanwhile
    respond(**(_deleted(win_id) if result.status == "deleted" else gone))
