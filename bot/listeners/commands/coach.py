"""`/aiwin coach` (what the AI coach is and whether it uses a model) · `/aiwin coach model on|off` (admins)."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.deps import Deps
from bot.listeners.commands.router import Call
from bot.services import coach, people
from bot.slack.directory import Directory

USAGE = ("Try `/aiwin coach` to see how the AI coach answers, or `/aiwin coach model off` / `on` (admins). "
         "A win that starts with the word \u201ccoach\u201d: word it differently (`/aiwin coached \u2026`) or use "
         "the form, `/aiwin`.")


def _args(call: Call) -> tuple[str, ...]:
    return tuple(call.text.lower().split())


def _status(call: Call, deps: Deps) -> str:
    if not deps.settings.llm_enabled:
        how = "plainly, quoting the playbook (no model is configured for this app)"
    else:
        with deps.db.read(call.team_id) as session:
            on = coach.model_on(session, call.team_id)
        how = ("with a language model, given only your question and the items you may see" if on
               else "plainly, quoting the playbook (an admin turned the model off)")
    return (f":compass: The AI coach answers {how}. Open it from the AI apps pane (a paid Slack plan), "
            "or mention @aiwins in a channel. Admins: `/aiwin coach model off` or `on`.")


def ack_coach(call: Call, deps: Deps) -> dict | None:
    args = _args(call)
    if not args:
        return ephemeral(_status(call, deps))
    if args[0] != "model" or len(args) != 2 or args[1] not in ("on", "off"):
        return ephemeral(USAGE)
    return None  # the admin check may ask Slack: the lazy part changes it or refuses


def lazy_coach(call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    args = _args(call)
    if len(args) != 2 or args[0] != "model" or args[1] not in ("on", "off"):
        return  # answered in the ack
    if not people.is_admin(deps.db, Directory(client), call.team_id, call.user_id):
        respond(**ephemeral("Only workspace admins can turn the coach's model on or off, so nothing was changed."))
        return
    on = args[1] == "on"
    with deps.db.session(call.team_id) as session:
        coach.set_model(session, call.team_id, call.enterprise_id, on)
    note = "" if deps.settings.llm_enabled else " (No model is configured for this app yet, so it answers plainly.)"
    respond(**ephemeral(f":white_check_mark: The AI coach's model is now *{args[1]}* for this workspace.{note}"))
