"""`/aiwin digest on|off|preview` and `/aiwin prompts on|off|preview`, for the channel they run in.

Bad day/time words are answered in the ack (no Slack call needed). Turning a schedule on or off
needs the admin check and the admin's Slack time zone (users.info), so it runs in the lazy part
and answers with `respond`. Preview is for anyone."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import context, ephemeral, section
from bot.blocks.digest import digest_blocks
from bot.blocks.prompts import prompt_blocks
from bot.blocks.text import escape, truncate
from bot.deps import Deps
from bot.listeners.commands.router import Call, Subcommand
from bot.manifest import invite_hint
from bot.models import KIND_DIGEST, KIND_PROMPTS, Workspace, utcnow
from bot.services import people
from bot.services import subscriptions as subs
from bot.services.digest import build_digest
from bot.services.members import refresh_members
from bot.services.prompts import prompt_for_channel
from bot.services.workspaces import ensure_workspace
from bot.slack.directory import Directory
from bot.slack.links import workspace_url

log = logging.getLogger(__name__)

WHAT = {KIND_DIGEST: "the weekly AI wins digest", KIND_PROMPTS: "weekly leadership modeling prompts"}
EXAMPLES = {KIND_DIGEST: ("`/aiwin digest on Friday 16:00`", "`/aiwin digest on fri 4pm`"),
            KIND_PROMPTS: ("`/aiwin prompts on Monday 09:00`", "`/aiwin prompts on mon 9am`")}


def usage(kind: str) -> str:
    default = "Friday 16:00" if kind == KIND_DIGEST else "Monday 09:00"
    return (f"*/aiwin {kind}* — {WHAT[kind]} in this channel:\n"
            f"• `/aiwin {kind} on [day] [time]` — turn it on (admins; default {default} in your time zone), "
            f"e.g. {EXAMPLES[kind][0]} or {EXAMPLES[kind][1]}\n"
            f"• `/aiwin {kind} off` — stop it (admins)\n"
            f"• `/aiwin {kind} preview` — see it now, only you")


def schedule_error(kind: str, e: subs.ScheduleError) -> str:
    word = f"“{truncate(escape(e.word), 40)}”"
    if e.problem == "two days":
        why = f"I can only take one day, and {word} is a second one."
    elif e.problem == "two times":
        why = f"I can only take one time, and {word} is a second one."
    else:
        why = (f"I didn't understand {word}: give a day (Monday…Sunday, or mon…sun) and a time "
               "(16:00, 4pm, 4:30pm).")
    return f":thinking_face: {why} For example: {EXAMPLES[kind][0]} or {EXAMPLES[kind][1]}."


def _parse(call: Call) -> tuple[str, str]:
    action, _, rest = call.text.strip().partition(" ")
    return action.lower(), rest.strip()


def _ack(kind: str, call: Call, deps: Deps) -> dict[str, Any] | None:
    action, rest = _parse(call)
    if action == "on":
        try:
            subs.parse_schedule(rest, kind)
        except subs.ScheduleError as e:
            return ephemeral("That day or time didn't work.", [section(schedule_error(kind, e))])
        if not _postable(call.channel_id):
            return ephemeral("Run this in a channel.", [section(
                f":point_right: Run `/aiwin {kind} on` in the channel that should get {WHAT[kind]} "
                "(not in a direct message).")])
        return None  # an empty 200 now; the lazy part checks the admin and answers
    if action in ("off", "preview"):
        return None
    return ephemeral(f"/aiwin {kind}", [section(usage(kind))])


def _postable(channel_id: str | None) -> bool:
    return bool(channel_id) and channel_id[0] in ("C", "G")


def _lazy(kind: str, call: Call, deps: Deps, client: WebClient, respond: Respond) -> None:
    action, rest = _parse(call)
    if action not in ("on", "off", "preview"):
        return
    try:
        if action == "preview":
            respond(**_preview(kind, call, deps, client))
        elif action == "off":
            respond(**_turn_off(kind, call, deps, client))
        elif _postable(call.channel_id):
            try:
                schedule = subs.parse_schedule(rest, kind)
            except subs.ScheduleError:
                return  # the ack already explained
            respond(**_turn_on(kind, schedule, call, deps, client))
    except Exception:
        log.exception("/aiwin %s %s failed (team %s, user %s, channel %s)", kind, action, call.team_id,
                      call.user_id, call.channel_id)
        respond(**ephemeral(":warning: Sorry, something went wrong on our side. "
                            "Please try again in a minute."))


def _refusal(kind: str) -> dict[str, Any]:
    return ephemeral("Only workspace admins can change this.", [section(
        f":lock: Only workspace admins can turn {WHAT[kind]} on or off. Ask an admin to run "
        f"`/aiwin {kind} on` here. Anyone can see it now with `/aiwin {kind} preview`.")])


def _turn_on(kind: str, schedule: subs.Schedule, call: Call, deps: Deps, client: WebClient) -> dict[str, Any]:
    directory = Directory(client)
    if not people.is_admin(deps.db, directory, call.team_id, call.user_id):
        return _refusal(kind)
    tz = people.user_tz(deps.db, directory, call.team_id, call.user_id)
    now = utcnow()
    assert call.channel_id is not None
    with deps.db.session(call.team_id) as session:
        ensure_workspace(session, call.team_id, call.enterprise_id)
        sub = subs.subscribe(session, team_id=call.team_id, enterprise_id=call.enterprise_id, kind=kind,
                             channel_id=call.channel_id, schedule=schedule, tz=tz, user_id=call.user_id,
                             now=now)
    first = subs.next_due(sub.schedule, sub.tz, now).astimezone(ZoneInfo(sub.tz))
    lines = [f":white_check_mark: <#{call.channel_id}> will get {WHAT[kind]}. "
             f"*{escape(sub.describe())}*. The next one: {first:%A} {first.day} {first:%B, %H:%M}."]
    if kind == KIND_DIGEST:
        lines.append("Each digest shows the week (Monday to Sunday, UTC) of the day before it goes out: a Friday "
                     "one the week so far, a Monday one the week just ended.")
    blocks = [section("\n".join(lines)),
              context(f"Change it: `/aiwin {kind} on <day> <time>` · stop it: `/aiwin {kind} off` · "
                      f"see it now: `/aiwin {kind} preview` · private channel? `{invite_hint()}` first.")]
    return ephemeral(f"{WHAT[kind].capitalize()}: {sub.describe()}", blocks)


def _turn_off(kind: str, call: Call, deps: Deps, client: WebClient) -> dict[str, Any]:
    if not people.is_admin(deps.db, Directory(client), call.team_id, call.user_id):
        return _refusal(kind)
    with deps.db.session(call.team_id) as session:
        changed = subs.unsubscribe(session, team_id=call.team_id, kind=kind, channel_id=call.channel_id or "")
    if changed:
        return ephemeral(f":no_bell: Stopped {WHAT[kind]} in this channel. "
                         f"Turn it back on with `/aiwin {kind} on`.")
    return ephemeral(f"{WHAT[kind].capitalize()} {'was' if kind == KIND_DIGEST else 'were'} not on in this "
                     f"channel. Turn it on with `/aiwin {kind} on`.")


def _preview(kind: str, call: Call, deps: Deps, client: WebClient) -> dict[str, Any]:
    channel = call.channel_id or ""
    with deps.db.read(call.team_id) as session:
        sub = subs.get_subscription(session, call.team_id, kind, channel) if channel else None
    period = subs.iso_week(utcnow())
    base_url = workspace_url(client, call.team_id) if kind == KIND_DIGEST else None  # before the session opens
    group: Any = ()
    if kind == KIND_DIGEST:
        # The digest's people are members active in the week: the member list's daily copy, if it is due.
        if refresh_members(deps.db, call.team_id, call.enterprise_id):
            deps.wake_worker()
        group = people.managers_group_members(deps.db, Directory(client), call.team_id)
    with deps.db.read(call.team_id) as session:
        if kind == KIND_DIGEST:
            text, blocks = digest_blocks(build_digest(session, call.team_id, period, channel_id=channel or None,
                                                      base_url=base_url, group_members=group))
        else:
            ws = session.get(Workspace, call.team_id)
            prompt = prompt_for_channel(session, call.team_id, channel, before=period)
            text, blocks = prompt_blocks(prompt, period=period, channel_id=channel,
                                         has_policy=bool(ws and (ws.policy_text or ws.policy_url)),
                                         policy_url=ws.policy_url if ws else None)
    state = (f"scheduled: {escape(sub.describe())}" if sub and sub.active
             else f"not scheduled here (`/aiwin {kind} on`)")
    note = context(f":eyes: Preview, only visible to you · {period} · {state}")
    return ephemeral(text, [note, *blocks][:50])


def subcommand_for(kind: str) -> Subcommand:
    """`/aiwin digest …` and `/aiwin prompts …` share their grammar; `kind` tells them apart."""
    return Subcommand(ack=lambda call, deps: _ack(kind, call, deps),
                      lazy=lambda call, deps, client, respond: _lazy(kind, call, deps, client, respond))
