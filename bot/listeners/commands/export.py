"""`/aiwin export mine` (queued at once) and `/aiwin export` (the whole workspace: admins only, decided in
the lazy part, which answers with `respond`). The CSV files come by DM from a job."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.deps import Deps
from bot.listeners.commands.router import ADMINS, Call, caller_is_admin, friendly
from bot.models.queue import enqueue
from bot.services.export import EXPORT

EXPORT_USAGE = ("Try `/aiwin export mine` for your own wins, narratives and teach-backs, or `/aiwin export` "
                f"for the whole workspace ({ADMINS}).")


def _queue_export(call: Call, deps: Deps, *, mine: bool) -> dict:
    with deps.db.session(call.team_id) as session:
        enqueue(session, team_id=call.team_id, enterprise_id=call.enterprise_id, kind=EXPORT,
                payload={"user_id": call.user_id, "mine": mine},
                dedupe_key=f"export:{call.trigger_id}" if call.trigger_id else None)
    deps.wake_worker()
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
    if not caller_is_admin(call, deps, client):
        respond(**ephemeral(f"Only {ADMINS} can export the whole workspace. You can export your own "
                            "data with `/aiwin export mine`."))
        return
    respond(**_queue_export(call, deps, mine=False))
