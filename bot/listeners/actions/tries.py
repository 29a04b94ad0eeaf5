""""I tried it too" on a celebration, a story or a delivered teach-back's note."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.blocks.tries import tried_answer
from bot.deps import Deps
from bot.services import ratelimit, tries


def ack_only(ack: Ack) -> None:
    ack()


def tried_it(body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    deps: Deps = context["deps"]
    action = (body.get("actions") or [{}])[0]
    target = tries.parse_target(action.get("value"))
    if target is None:
        respond({"response_type": "ephemeral", "replace_original": False,
                 "text": "That button is not one I know any more. Try the newest message."})
        return
    container = body.get("container") or {}
    pressed = (container.get("channel_id"), container.get("message_ts"))
    with deps.db.session(context.team_id) as session:
        result = tries.tried_it(session, team_id=context.team_id, enterprise_id=context.enterprise_id,
                                user_id=context.user_id, target=target, limits=ratelimit.limits_of(deps.settings),
                                pressed=pressed if all(pressed) else None)
    if result.status == tries.OK:
        deps.wake_worker()
    respond(tried_answer(target, result))
