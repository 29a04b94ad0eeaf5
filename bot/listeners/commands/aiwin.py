"""The `/aiwin` slash command: thin; parsing and storage live in bot/services."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.modals import WIN_ONE_LINE
from bot.blocks.ratelimit import slow_down
from bot.blocks.typos import anyway_value, did_you_mean
from bot.blocks.win import accepted, help_message, too_many_people, win_modal
from bot.deps import Deps
from bot.listeners.commands.router import Call, Subcommands, call_from, near_miss, split
from bot.listeners.modals import open_modal, respond_with
from bot.services import ratelimit
from bot.services.inbox import accept_command
from bot.services.teachbacks import teachback_emoji
from bot.services.wintext import MAX_RECIPIENTS, parse_win_text


def ack_aiwin(ack: Ack, command: dict[str, Any], context: BoltContext, subcommands: Subcommands) -> None:
    deps: Deps = context["deps"]
    name, rest = split(command.get("text", ""), subcommands)
    call = call_from(command, rest)
    if name:
        spec = subcommands[name]
        body = spec.ack(call, deps) if spec.ack else None
        if body:
            ack(body)
        else:
            ack()  # an empty 200; the lazy part answers through response_url
        return
    if not call.text:
        ack()  # the modal opens after the ack (lazy_aiwin)
        return
    parsed = parse_win_text(call.text)  # pure code: bounds are checked before anything is written
    if len(parsed.recipients) > MAX_RECIPIENTS:
        ack(too_many_people(len(parsed.recipients), call.text))
        return
    guess = near_miss(call.text, subcommands)
    value = anyway_value(call.text, call.trigger_id) if guess else None
    if guess and value:
        ack(did_you_mean(guess, value))  # a typo is not a public win: ask first, record nothing
        return
    # One write before Slack hears back: the command itself, in the durable queue; the worker records it
    # (bot/services/inbox.py). This process's copy of the per-person limit answers first, without a write.
    wait = deps.limiter.take(call.team_id, call.user_id, ratelimit.WIN)
    if wait is not None:
        ack(slow_down("win", wait, deps.limiter.limits, wire_text=call.text))
        return
    with deps.db.session(call.team_id) as session:
        new = accept_command(session, team_id=call.team_id, enterprise_id=call.enterprise_id, user_id=call.user_id,
                             channel_id=call.channel_id, text=call.text, trigger_id=call.trigger_id,
                             response_url=call.response_url)
    if new:
        deps.notify_jobs()
    ack(accepted(parsed, channel_id=call.channel_id, trigger_id=call.trigger_id or ""))


def lazy_aiwin(command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond,
               subcommands: Subcommands) -> None:
    deps: Deps = context["deps"]
    name, rest = split(command.get("text", ""), subcommands)
    call = call_from(command, rest)
    if name:
        spec = subcommands[name]
        if spec.lazy:
            spec.lazy(call, deps, client, respond)
    elif not call.text:
        open_win_modal(call, client, respond)


def open_win_modal(call: Call, client: WebClient, respond: Respond) -> None:
    open_modal(client, call.trigger_id, win_modal(channel_id=call.channel_id), what="win",
               one_line=WIN_ONE_LINE, tell=respond_with(respond))


def ack_help(call: Call, deps: Deps) -> dict[str, Any]:
    with deps.db.read(call.team_id) as session:
        emoji = teachback_emoji(session, call.team_id)  # the workspace may have chosen its own
    return help_message(emoji)
