"""Block Kit for teach-backs and managers: the owner's invitation and its answers, the thread
note, the managers' notices, `/aiwin teachbacks` and `/aiwin managers`."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import button, context, ephemeral, mention, mentions, section, user_text
from bot.blocks.text import escape, truncate
from bot.blocks.tries import tried_blocks
from bot.models import TB_ACCEPTED, TB_DECLINED, TB_DONE, TB_NOMINATED
from bot.services.managers import ManagerList
from bot.services.teachbacks import TeachBackView
from bot.services.tries import WIN, Target

ACCEPT, DECLINE, DONE = "teachback_accept", "teachback_decline", "teachback_done"
ACTION_PREFIX = "teachback_"

WHAT_IS_A_TEACHBACK = (
    "*What's a teach-back?* A short, informal session (10–15 minutes is plenty) where you show the team "
    "how you did it: the prompt, the steps, what you checked. It's how one person's smart use of AI "
    "becomes everyone's habit."
)

STATUS_LABELS = {
    TB_NOMINATED: ":hourglass_flowing_sand: nominated",
    TB_ACCEPTED: ":white_check_mark: accepted",
    TB_DONE: ":tada: done",
    TB_DECLINED: "declined",
}


def _win_link(tb: TeachBackView, permalink: str | None) -> str:
    label = f"win #{tb.win.id}"
    return f"<{permalink}|{label}>" if permalink else label


def _win_quote(tb: TeachBackView, limit: int = 300) -> str:
    return "> " + user_text(tb.win.text, tb.win.text_format, limit).replace("\n", "\n> ")


def invitation(tb: TeachBackView, permalink: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The DM to a nominated owner, with Accept / Decline."""
    who = mentions(list(tb.managers or (tb.first_manager_id,)), limit=5)
    blocks = [
        section(f":mortar_board: *{who} nominated your {_win_link(tb, permalink)} for a teach-back!*"),
        section(_win_quote(tb)),
        section(WHAT_IS_A_TEACHBACK),
        {"type": "actions", "block_id": f"teachback_{tb.id}", "elements": [
            button("Accept", ACCEPT, str(tb.id), style="primary"),
            button("Decline", DECLINE, str(tb.id)),
        ]},
        context(f"Teach-back #{tb.id} · declining is fine and stays between you and the manager."),
    ]
    return f"You've been nominated for a teach-back on win #{tb.win.id}.", blocks


def accepted_message(tb: TeachBackView) -> dict[str, Any]:
    """Replaces the invitation once accepted: what happens next, and Mark done."""
    blocks = [
        section(f":white_check_mark: *You accepted the teach-back for win #{tb.win.id}.* Thank you!"),
        section(_win_quote(tb)),
        section("I've let the team know in the win's thread and told "
                f"{mentions(list(tb.managers or (tb.first_manager_id,)), limit=5)}. "
                "Pick a slot with them (a team meeting works well). "
                "When you've given it, press *Mark done*."),
        {"type": "actions", "block_id": f"teachback_{tb.id}", "elements": [
            button("Mark done", DONE, str(tb.id), style="primary"),
        ]},
        context(f"Teach-back #{tb.id} · or type `/aiwin teachbacks done {tb.id}`"),
    ]
    return {"text": f"You accepted the teach-back for win #{tb.win.id}.", "blocks": blocks}


def declined_message(tb: TeachBackView) -> dict[str, Any]:
    text = (f"No problem: you declined the teach-back for win #{tb.win.id}. I've let the manager know, "
            "kindly. Your win's celebration stays just as it is.")
    return {"text": text, "blocks": [section(":ok_hand: " + text), context(f"Teach-back #{tb.id}")]}


def done_message(tb: TeachBackView) -> dict[str, Any]:
    text = f"Teach-back #{tb.id} for win #{tb.win.id} is marked done. Thanks for sharing how you did it!"
    return {"text": text, "blocks": [section(":tada: " + text)]}


def transition_reply(outcome: str, tb: TeachBackView | None) -> str:
    """Why a button press or `teachbacks done` changed nothing, in one friendly sentence."""
    if outcome == "not_found" or tb is None:
        return "I can't find that teach-back any more: its win may have been deleted."
    if outcome == "forbidden":
        return (f"Only {mention(tb.owner_id)} (or, to mark it done, a manager) "
                f"can do that for teach-back #{tb.id}.")
    if outcome == "already":
        return {
            TB_ACCEPTED: f"Teach-back #{tb.id} is already accepted. :white_check_mark:",
            TB_DECLINED: f"Teach-back #{tb.id} was already declined, so there's nothing more to do.",
            TB_DONE: f"Teach-back #{tb.id} is already done. :tada:",
        }.get(tb.status, f"Teach-back #{tb.id} was already answered.")
    if outcome == "closed":
        return f"Teach-back #{tb.id} is no longer open (it was {tb.status}), so there's nothing to do."
    return "Done."


def thread_note(tb: TeachBackView, *, delivered: bool = False, tried: int = 0) -> tuple[str, list[dict[str, Any]]]:
    """Posted in the win's celebration thread when the owner accepts, and again once the teach-back is
    delivered (then with "I tried it too" and how many people did, `tried`)."""
    if delivered:
        text = (f":mortar_board: {mention(tb.owner_id)} delivered a teach-back on this win. "
                "Copied the practice since? Say so:")
        return (f"A teach-back was delivered for win #{tb.win.id}",
                [section(text), *tried_blocks(Target(WIN, tb.win.id), tried)])
    text = (f":mortar_board: {mention(tb.owner_id)} accepted a teach-back nomination: they'll show the team "
            "how they did this. Stay tuned!")
    return f"A teach-back is coming for win #{tb.win.id}!", [section(text)]


def manager_notice(tb: TeachBackView, event: str, permalink: str | None) -> tuple[str, list[dict[str, Any]]]:
    """DM to a nominating manager when the owner answers."""
    win = _win_link(tb, permalink)
    if event == TB_ACCEPTED:
        text = (f":mortar_board: {mention(tb.owner_id)} accepted your teach-back nomination for {win}. "
                "Help them find a slot: a team meeting or a short call works well.")
    else:
        text = (f":seedling: {mention(tb.owner_id)} has passed on the teach-back for {win} this time. "
                "No worries: the win is still celebrated, and thanks for recognising it!")
    return truncate(text, 400), [section(text), context(f"Teach-back #{tb.id}")]


def teachback_list(items: list[TeachBackView], total: int, permalinks: dict[int, str], *,
                   emoji: str = "mortar_board") -> dict[str, Any]:
    """`/aiwin teachbacks`: the open ones, newest first."""
    if not items:
        return ephemeral(
            f"No open teach-backs right now. Managers: react :{emoji}: on a win's celebration "
            "to nominate its owner to show the team how they did it."
        )
    blocks: list[dict[str, Any]] = [section(f":mortar_board: *Open teach-backs* ({total})")]
    for tb in items:
        blocks.append(section(
            f"*#{tb.id}* · {mention(tb.owner_id)} · {STATUS_LABELS.get(tb.status, escape(tb.status))} · "
            f"{_win_link(tb, permalinks.get(tb.win.id))}\n"
            + user_text(tb.win.text, tb.win.text_format, 200)
        ))
    more = total - len(items)
    footer = "Mark one done with `/aiwin teachbacks done <id>`."
    if more > 0:
        footer = f"…and {more} more. " + footer
    blocks.append(context(footer))
    return ephemeral(f"Open teach-backs: {total}", blocks)


MANAGERS_USAGE = (
    "*Managers* can nominate teach-backs. Examples:\n"
    "• `/aiwin managers` — who they are\n"
    "• `/aiwin managers add @alice @bob` · `/aiwin managers remove @bob`\n"
    "• `/aiwin managers group @team-leads` · `/aiwin managers group off`\n"
    "Changing managers is for workspace admins."
)


def manager_list(managers: ManagerList) -> dict[str, Any]:
    lines = [":busts_in_silhouette: *Managers*"]
    if managers.user_ids:
        lines.append("Added by admins: " + mentions(list(managers.user_ids), limit=50))
    else:
        lines.append("Added by admins: _nobody yet_")
    if managers.group_id:
        lines.append(f"Members of the user group <!subteam^{managers.group_id}>")
    lines.append("Workspace admins and owners are always managers too.")
    return ephemeral("Managers", [section("\n".join(lines)), context(MANAGERS_USAGE)])
