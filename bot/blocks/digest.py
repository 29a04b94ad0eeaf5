"""Block Kit for the weekly digest. Pure: DigestData in, (fallback text, blocks) out.

Stays inside Slack's limits whatever the week held: a fixed, small number of blocks (well under
50), every section cut to 3,000 characters by `section()`, the header to 150, lists capped with
"and N more"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.blocks.common import context, header, mention, mentions, section, user_text
from bot.blocks.text import escape, truncate
from bot.blocks.words import hours, plural, tool_counts
from bot.models import TEXT_PLAIN
from bot.services.digest import BestWin, DigestData, NarrativeItem
from bot.services.figures import NOT_SAID
from bot.services.wins import REINVEST_CATEGORIES

WIN_TEXT_LIMIT = 400
NARRATIVE_TEXT_LIMIT = 500
PEOPLE_SHOWN = 15
EXAMPLE_WIN = "/aiwin drafted the launch FAQ with ChatGPT, saved 2h"
EXAMPLE_NARRATIVE = "/aiwin narrate <how you used AI, step by step>"  # "<" shown as typed by common.mrkdwn

_SAFE_URL = re.compile(r"https?://[^\s<>|]+", re.IGNORECASE)


def week_label(data: DigestData) -> str:
    """"23–29 Nov 2026": the week's Monday to Sunday (a UTC week, as every figure's)."""
    first = data.period.first
    last = data.period.last + timedelta(days=6)
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def policy_line(has_policy: bool, policy_url: str | None) -> str | None:
    if not has_policy:
        return None
    line = "See our AI policy: `/aiwin policy`"
    if policy_url and _SAFE_URL.fullmatch(policy_url.strip()):
        line += f" · <{policy_url.strip().replace('&', '&amp;')}|read it>"
    return line


def call_to_action(has_policy: bool, policy_url: str | None) -> dict[str, Any]:
    parts = [f"Share yours: `{EXAMPLE_WIN}` · `{EXAMPLE_NARRATIVE}`"]
    policy = policy_line(has_policy, policy_url)
    if policy:
        parts.append(policy)
    return context(*parts)


def _people(user_ids: tuple[str, ...]) -> str:
    return mentions(list(user_ids), limit=PEOPLE_SHOWN)


def _win_line(win: BestWin) -> str:
    facts = []
    if win.tool:
        facts.append(f":robot_face: {truncate(escape(win.tool), 120)}")
    if win.minutes_saved:
        facts.append(f":stopwatch: saved {hours(win.minutes_saved)}")
    if win.permalink:
        facts.append(f"<{win.permalink}|see the win>")
    who = _people(win.owner_ids) or "someone"
    text = user_text(win.text, win.text_format, WIN_TEXT_LIMIT)
    return f":trophy: {who} — {text}" + ("\n" + "  ·  ".join(facts) if facts else "")


def _narrative_line(n: NarrativeItem) -> str:
    badge = " :star: _leader_" if n.is_leader else ""
    story = user_text(n.text, n.text_format, NARRATIVE_TEXT_LIMIT)
    line = f":speech_balloon: {mention(n.author_id)}{badge} — {story}"
    facts = []
    if n.tools:
        facts.append(f":robot_face: {user_text(n.tools, TEXT_PLAIN, 120)}")
    if n.minutes_saved:
        facts.append(f":stopwatch: saved {hours(n.minutes_saved)}")
    if n.permalink:
        facts.append(f"<{n.permalink}|read it>")
    return line + ("\n" + "  ·  ".join(facts) if facts else "")


def _reinvest_text(data: DigestData) -> str:
    parts = []
    reinvested = sorted(data.totals.split.minutes.items(), key=lambda kv: (kv[0] == NOT_SAID, -kv[1], kv[0]))
    for key, minutes in reinvested:
        share = round(100 * minutes / data.minutes_saved) if data.minutes_saved else 0
        if key == NOT_SAID:
            parts.append(f"{hours(minutes)} with no destination given ({share}%)")
        else:
            parts.append(f"{REINVEST_CATEGORIES.get(key, 'Other')} {hours(minutes)} ({share}%)")
    return ":seedling: *Where the saved time went:* " + " · ".join(parts)


def digest_blocks(data: DigestData) -> tuple[str, list[dict[str, Any]]]:
    """The digest message: (fallback text, blocks)."""
    title = f":bar_chart: AI wins this week · {week_label(data)}"
    if data.quiet:
        return quiet_blocks(data, title)

    saved = hours(data.minutes_saved) if data.minutes_saved else None
    summary = f"*{plural(data.wins, 'AI win')}*"
    if data.totals.people is not None:  # people are members: not counted before the member list's first copy
        summary += f" · *{plural(data.totals.people, 'person', 'people')}* active"
    summary += f" · *{saved} saved*" if saved else " · no time saved reported yet"
    blocks: list[dict[str, Any]] = [header(title), section(summary)]
    if data.minutes_saved:
        blocks.append(section(_reinvest_text(data)))
    if data.totals.top_tools:
        blocks.append(section(":robot_face: *Top tools:* " + tool_counts(data.totals.top_tools)))

    blocks.append({"type": "divider"})
    managers = plural(data.leaders_modeling, "manager")
    narrate = f"`{EXAMPLE_NARRATIVE}`"
    if data.leaders_modeling:
        blocks.append(section(f":compass: *Leaders modeling AI use* — {managers} shared how they use AI "
                              "this week"))
    elif data.narratives:
        blocks.append(section(":compass: *How people use AI* — no manager shared a narrative this week; "
                              f"managers, show the way with {narrate}"))
    else:
        blocks.append(context(f":compass: No manager shared a narrative this week. Managers: {narrate}"))
    blocks.extend(section(_narrative_line(n)) for n in data.narratives)
    if data.more_narratives:
        blocks.append(context(f"and {plural(data.more_narratives, 'more narrative')}"))

    if data.best_wins:
        blocks.append({"type": "divider"})
        blocks.append(section("*The week's best wins*"))
        blocks.extend(section(_win_line(w)) for w in data.best_wins)
        if data.more_wins:
            blocks.append(context(f"and {plural(data.more_wins, 'more win')} this week"))

    if data.most_tried:
        win, tried = data.most_tried
        blocks.append(section(f":raised_hands: *Most tried this week* ({plural(tried, 'person', 'people')} "
                              f"tried it too)\n" + _win_line(win)))

    teach = []
    if data.nominated:
        teach.append(f"nominated: {_people(data.nominated)}")
    if data.accepted:
        teach.append(f"accepted: {_people(data.accepted)}")
    if data.done:
        teach.append(f"taught: {_people(data.done)}")
    if teach:
        blocks.append(section(":mortar_board: *Teach-backs* — " + " · ".join(teach)))
    if data.first_timers:
        blocks.append(section(f":wave: *New this week* — welcome {_people(data.first_timers)}!"))

    blocks.append({"type": "divider"})
    blocks.append(call_to_action(data.has_policy, data.policy_url))
    fallback = f"AI wins this week ({week_label(data)}): {plural(data.wins, 'win')}" + (
        f", {saved} saved" if saved else "")
    return fallback, blocks


def quiet_blocks(data: DigestData, title: str) -> tuple[str, list[dict[str, Any]]]:
    """A week with no wins and no narratives: a short nudge instead of empty numbers."""
    blocks: list[dict[str, Any]] = [
        header(title),
        section(":seedling: A quiet week for AI wins. Did AI save you ten minutes this week? That counts: "
                f"share it with `{EXAMPLE_WIN}`.\nManagers: tell your team how *you* used AI this week — "
                f"`{EXAMPLE_NARRATIVE}`"),
    ]
    policy = policy_line(data.has_policy, data.policy_url)
    if policy:
        blocks.append(context(policy))
    return f"A quiet week for AI wins ({week_label(data)}): share yours with /aiwin", blocks
