"""`/aiwin policy` and `/aiwin policy set …`: anyone reads it; admins set it (the admin check may ask
Slack, so setting is decided in the lazy part, which answers with `respond`)."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.blocks.common import ephemeral
from bot.blocks.policy import policy_message, policy_saved
from bot.deps import Deps
from bot.listeners.commands.router import ADMINS, Call, caller_is_admin, friendly
from bot.services.home import enqueue_home_refresh
from bot.services.policy import EXAMPLE, PolicyError, parse_command_policy, policy_summary, set_policy

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
    if not caller_is_admin(call, deps, client):
        respond(**ephemeral(f"Only {ADMINS} can change the AI policy, so nothing was changed. Ask one of "
                            "them; anyone can read it with `/aiwin policy`."))
        return
    with deps.db.session(call.team_id) as session:
        view = set_policy(session, team_id=call.team_id, enterprise_id=call.enterprise_id,
                          user_id=call.user_id, text=text, url=url)
        enqueue_home_refresh(session, call.team_id, [call.user_id], enterprise_id=call.enterprise_id)
    deps.wake_worker()
    respond(**policy_saved(view))
