"""Block Kit for App Home and the settings modals opened from it. Pure functions of plain data."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.blocks.adoption import adoption_blocks
from bot.blocks.common import (
    button,
    context,
    header,
    input_block,
    mention,
    mentions,
    section,
    text_input,
    user_text,
)
from bot.blocks.policy import policy_blocks
from bot.blocks.search import search_box
from bot.blocks.stats import (
    coverage_text,
    day,
    hours,
    monday,
    people_text,
    personal_lines,
    plural,
    split_text,
    tools_text,
)
from bot.blocks.text import escape, plain
from bot.models import KIND_DIGEST
from bot.services.home import MAX_MANAGERS, AdminSettings, HomeData, RecentWin, SubscriptionView
from bot.services.policy import MAX_POLICY_TEXT, MAX_POLICY_URL, PolicyView
from bot.services.wins import REINVEST_CATEGORIES

MAX_HOME_BLOCKS = 100
POLICY_MODAL, EMOJI_MODAL, MANAGERS_MODAL = "home_policy", "home_emoji", "home_managers"
EDIT_POLICY, EDIT_EMOJI, EDIT_MANAGERS, SHOW_SUBSCRIPTIONS = (
    "home_edit_policy", "home_edit_emoji", "home_edit_managers", "home_show_subscriptions",
)
WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
TB_LABELS = {"nominated": "nominated", "accepted": "accepted (coming up)", "done": "given"}
_GROUP_RE = re.compile(r"S[A-Z0-9]+")


def home_view(data: HomeData) -> dict[str, Any]:
    """The Home tab view for views.publish (at most 100 blocks)."""
    blocks = [*search_box(), *_personal(data), {"type": "divider"}, *_team(data), {"type": "divider"}]
    if data.adoption is not None:
        blocks += [*adoption_blocks(data.adoption, title="AI adoption (managers and admins)"), {"type": "divider"}]
    blocks += [header("AI policy"), *policy_blocks(data.policy)]
    if data.settings is not None:
        blocks += [{"type": "divider"}, *_settings(data.settings, data.policy)]
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


# -- you ---------------------------------------------------------------------------------------------------


def _personal(data: HomeData) -> list[dict[str, Any]]:
    me = data.personal
    blocks: list[dict[str, Any]] = [header("Your AI wins")]
    if not me.wins:
        blocks.append(section("No wins yet. Log your first one:\n"
                              "`/aiwin cut test triage from 2h to 20m with Copilot`"))
    else:
        blocks.append(section("\n".join(personal_lines(me))))
    if data.opted_out:
        blocks.append(context("You've opted out: you're counted in the team figures but never named "
                              "(this view is just for you). `/aiwin optin` to rejoin."))
    if data.recent_wins:
        blocks.append(section("*Your latest wins*"))
        blocks += [_recent(w, data.tz, data.user_id) for w in data.recent_wins]
    if data.teachbacks:
        counts = " · ".join(f"{n} {TB_LABELS.get(s, s)}" for s, n in sorted(data.teachback_counts.items()))
        lines = [f":mortar_board: *Your teach-backs:* {counts}"]
        lines += [f"• Win #{t.win_id}: {TB_LABELS.get(t.status, t.status)} "
                  f"(updated {day(t.updated_at, data.tz)})" for t in data.teachbacks]
        blocks.append(section("\n".join(lines)))
    return blocks


def _recent(win: RecentWin, tz: str, viewer: str) -> dict[str, Any]:
    facts = [f"*#{win.id}*", day(win.created_at, tz)]
    if win.tool:
        facts.append(escape(win.tool))
    if win.minutes_saved:
        facts.append(f"saved {hours(win.minutes_saved)}")
    if win.reinvested_in:
        facts.append(f"went to {REINVEST_CATEGORIES.get(win.reinvested_in, 'Other')}")
    if win.author_id != viewer:
        facts.append(f"from {mention(win.author_id)}")
    return section(" · ".join(facts) + "\n" + user_text(win.text, win.text_format, 400))


# -- the team -------------------------------------------------------------------------------------------


def _team(data: HomeData) -> list[dict[str, Any]]:
    week = data.weeks[-1]
    members = data.coverage.now.of if data.members_known else 0
    blocks: list[dict[str, Any]] = [
        header("Your team"),
        section(f"*This week* (since {monday(week.period.first)}, UTC)", fields=[
            {"type": "mrkdwn", "text": f"*Wins*\n{week.wins:,}"},
            {"type": "mrkdwn", "text": f"*People active*\n{'not known yet' if week.people is None else week.people}"},
            {"type": "mrkdwn", "text": f"*Time saved*\n{hours(week.minutes)}"},
            {"type": "mrkdwn", "text": f"*Top tools*\n{tools_text(week.top_tools)}"},
        ]),
        section(f":dart: *Coverage:* {coverage_text(data.coverage, data.members_known)}"),
    ]
    rows = []
    for i, w in enumerate(reversed(data.weeks)):
        label = "This week" if i == 0 else f"Week of {monday(w.period.first)}"
        share = f" ({round(100 * w.people / members)}% of members)" if members and w.people is not None else ""
        rows.append(f"• {label}: {plural(w.wins, 'win')} · {people_text(w.people)}{share} · "
                    f"{hours(w.minutes)} saved")
    blocks.append(section(f":chart_with_upwards_trend: *The last {len(data.weeks)} weeks*\n" + "\n".join(rows)))
    blocks.append(section(f":seedling: *Where the saved time went:* {split_text(data.trend.split)}\n"
                          f":robot_face: *Top tools:* {tools_text(data.trend.top_tools)}"))
    if data.leaders:
        leaders = f":star: *Leaders who modeled AI use this month:* {mentions(list(data.leaders))}"
    else:
        leaders = (":star: *Leaders who modeled AI use this month:* none yet. Managers: share how you "
                   "used AI with `/aiwin narrate …`")
    blocks.append(section(leaders))
    blocks.append(context("Weeks are UTC weeks. People who opted out are counted, never named."))
    return blocks


# -- settings (admins) ---------------------------------------------------------------------------------------


def schedule_text(sub: SubscriptionView) -> str:
    weekday = WEEKDAYS[sub.weekday] if 0 <= sub.weekday < 7 else "?"
    return f"<#{sub.channel_id}> · {weekday} {sub.hour:02d}:{sub.minute:02d} ({escape(sub.tz)})"


def _settings(s: AdminSettings, policy: PolicyView | None) -> list[dict[str, Any]]:
    def listing(subs: tuple[SubscriptionView, ...]) -> str:
        return "\n".join("• " + schedule_text(x) for x in subs) if subs else "_no channel yet_"

    managers = (mentions(list(s.managers), limit=30) if s.managers
                else "_none added_ (workspace admins always are)")
    if s.managers_group and _GROUP_RE.fullmatch(s.managers_group):
        managers += f"\nUser group: <!subteam^{s.managers_group}>"
    policy_state = "set" if policy else "_not set_"
    return [
        header("Settings (admins)"),
        section(f"*Weekly digests*\n{listing(s.digests)}",
                accessory=button("How to change", SHOW_SUBSCRIPTIONS, "digest")),
        section(f"*Leadership prompts*\n{listing(s.prompts)}",
                accessory=button("How to change", SHOW_SUBSCRIPTIONS, "prompts")),
        section(f"*Managers* (can nominate teach-backs)\n{managers}",
                accessory=button("Edit managers", EDIT_MANAGERS)),
        section(f"*Teach-back emoji*\n:{escape(s.teachback_emoji)}: `{escape(s.teachback_emoji)}`",
                accessory=button("Change", EDIT_EMOJI)),
        section(f"*AI policy*\n{policy_state}", accessory=button("Edit policy", EDIT_POLICY)),
    ]


# -- modals ------------------------------------------------------------------------------------------------


def _modal(callback_id: str, title: str, blocks: list[dict[str, Any]], *, submit: str | None = "Save",
           meta: dict[str, Any] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": plain(title, 24)},
        "close": {"type": "plain_text", "text": "Cancel" if submit else "Close"},
        "blocks": blocks,
    }
    if submit:
        view["submit"] = {"type": "plain_text", "text": submit}
    if meta:
        view["private_metadata"] = json.dumps(meta)
    return view


def policy_modal(policy: PolicyView | None) -> dict[str, Any]:
    return _modal(POLICY_MODAL, "AI policy", [
        section("What may people use AI for, with which tools and data? Give a short text, a link to the "
                "full policy, or both. Everyone sees it with `/aiwin policy`, on Home and in digests."),
        input_block("policy_text", "Policy text", text_input(
            "policy_text", initial=policy.text if policy else None, max_length=MAX_POLICY_TEXT,
            multiline=True, placeholder="Use approved tools only; never paste customer data…"),
            optional=True),
        input_block("policy_url", "Link to the full policy", text_input(
            "policy_url", initial=policy.url if policy else None, max_length=MAX_POLICY_URL,
            placeholder="https://wiki.example.com/ai-policy"), optional=True,
            hint="Leave both empty to remove the policy."),
    ])


def emoji_modal(current: str) -> dict[str, Any]:
    return _modal(EMOJI_MODAL, "Teach-back emoji", [
        section("Managers react with this emoji on a win to nominate its owner for a teach-back."),
        input_block("emoji", "Emoji name", text_input("emoji", initial=current, max_length=100,
                                                  placeholder="mortar_board"),
               hint="Without colons is fine: mortar_board, tada, star"),
    ])


def managers_modal(managers: tuple[str, ...], group: str | None) -> dict[str, Any]:
    note = "Workspace admins and owners are always managers"
    note += ", and so is everyone in the managers user group." if group else "."
    intro = section("Managers can nominate wins for teach-backs and are asked to model AI use. " + note)
    if len(managers) >= MAX_MANAGERS:  # more than the picker can hold: saving it would drop people
        return _modal(MANAGERS_MODAL, "Managers", [intro, section(
            f"There are {len(managers)} managers, more than this form can edit. Use `/aiwin managers add @…` "
            "and `/aiwin managers remove @…` instead.")], submit=None)
    el: dict[str, Any] = {"type": "multi_users_select", "action_id": "managers",
                          "max_selected_items": MAX_MANAGERS,
                          "placeholder": {"type": "plain_text", "text": "Pick people"}}
    if managers:
        el["initial_users"] = list(managers)
    return _modal(MANAGERS_MODAL, "Managers", [intro, input_block("managers", "Managers", el, optional=True)])


def subscriptions_modal(kind: str, subs: tuple[SubscriptionView, ...]) -> dict[str, Any]:
    if kind == KIND_DIGEST:
        title, what, default = "Weekly digests", "the weekly digest", "Friday 16:00"
        on, off = "/aiwin digest on friday 16:00", "/aiwin digest off"
        extra = "`/aiwin digest preview` shows this week's digest to you alone."
    else:
        title, what, default = "Leadership prompts", "leadership prompts", "Monday 09:00"
        on, off = "/aiwin prompts on monday 09:00", "/aiwin prompts off"
        extra = "Prompts ask managers to share one way they used AI this week."
    current = "\n".join("• " + schedule_text(s) for s in subs) if subs else "_No channel gets it yet._"
    return _modal(f"home_{kind}_info", title, [
        section(f"*Now*\n{current}"),
        section(f"*To send {what} to a channel*, go to that channel and type `{on}` (day and time are "
                f"optional; the default is {default} in your Slack time zone). To stop, type `{off}` there. "
                "Only workspace admins can do this."),
        context(extra),
    ], submit=None)
