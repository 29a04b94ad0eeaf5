"""Adoption figures as Block Kit (pure): `/aiwin adoption`, managers' App Home, the monthly report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks.common import context, ephemeral, header, mentions, section
from bot.blocks.stats import hours, plural
from bot.blocks.text import escape
from bot.services.adoption import HABIT_MIN, HABIT_WEEKS, AdoptionFigures, TeamView, TrendWeek
from bot.services.figures import LONG_WEEKS, Change, OrgFigures, Share
from bot.services.wins import REINVEST_CATEGORIES

BARS = "▁▂▃▄▅▆▇█"
USAGE = ("`/aiwin adoption` shows adoption for the workspace; `/aiwin adoption @team` for one team; "
         "`/aiwin adoption org` for every workspace of an Enterprise Grid org (org admins). "
         "Admins mark user groups as teams: `/aiwin adoption teams add @design`, `teams remove @design`, "
         "`teams` lists them.")


def pct(s: Share) -> str:
    return "—" if s.share is None else f"{s.share * 100:.0f}%"


def change_text(c: Change) -> str:
    pts = c.points
    if pts is None:
        return ""
    if pts == 0:
        return " (no change)"
    return f" ({'▲' if pts > 0 else '▼'} {abs(pts):g} pts)"


def sparkline(trend: tuple[TrendWeek, ...]) -> str:
    """The weekly active members as a text chart, e.g. "▁▂▂▃▅▆▆▇"."""
    values = [w.active for w in trend]
    top = max(values, default=0)
    if not top:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, round(v / top * (len(BARS) - 1)))] for v in values)


def scope_name(f: AdoptionFigures) -> str:
    if f.group_id is None:
        return "the workspace"
    return f"@{escape(f.group_name)}" if f.group_name else f"<!subteam^{f.group_id}>"


def period_text(f: AdoptionFigures) -> str:
    first, end = f.period.first, f.period.last + timedelta(days=6)
    return f"{first:%b} {first.day} – {end:%b} {end.day}, {end.year}"


def period_name(f: AdoptionFigures) -> str:
    """What the period is called on screen: "Last 4 weeks" (the default), else its dates."""
    return f"Last {f.period.count} weeks" if f.is_current else period_text(f)


def adoption_blocks(f: AdoptionFigures, *, title: str | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [header(title or f"AI adoption · {scope_name(f)}"[:150])]
    blocks.append(context(
        f"{period_text(f)} (UTC weeks) · {plural(f.members, 'member')}"
        + (f" · {plural(f.guests, 'guest')} ({f.guests_active} active, not in the figures)" if f.guests else "")
        + (f" · {f.opted_out} opted out: counted, never named" if f.opted_out else "")))
    if not f.members_known:
        blocks.append(section(":hourglass_flowing_sand: The member list is still being copied from Slack, so "
                              "coverage is not known yet. Try again in a minute."))
    blocks.append(section(
        f"*Coverage* (active members ÷ members)\n"
        f"{period_name(f)}: *{pct(f.coverage.now)}* ({f.coverage.now.count:,} of {f.members:,})"
        f"{change_text(f.coverage)}\n"
        f"{LONG_WEEKS} weeks to its end: *{pct(f.coverage_long.now)}* ({f.coverage_long.now.count:,})"
        f"{change_text(f.coverage_long)}"))
    blocks.append(section(
        f"*Habit*: {f.habit.count:,} members ({pct(f.habit)}) active in {HABIT_MIN}+ of the last {HABIT_WEEKS} "
        f"weeks\n*New*: {plural(f.new, 'person', 'people')} started in this period\n"
        f"*Dormant*: {f.dormant.count:,} who were active before have been quiet for 60 days"))
    lead = f"*Leaders modeling*: {f.leaders.count} of {plural(f.leaders.of, 'manager')} shared a narrative"
    if f.leaders_named:
        lead += f": {mentions(list(f.leaders_named))}"
    blocks.append(section(lead))
    p = f.pipeline
    tb = f"*Teach-backs*: {p.nominated} nominated → {p.accepted} accepted → {p.delivered} delivered"
    if p.delivered_by:
        tb += f"\n:mortar_board: Thank you for teaching: {mentions(list(p.delivered_by))}"
    blocks.append(section(tb))
    sp = f.spread
    blocks.append(section(f"*Practices spread*: {plural(sp.practices_spread, 'win')} tried by someone else "
                          f"({plural(sp.tries, 'try', 'tries')}) · *Teach-back reach*: {sp.teachback_reach} "
                          "of those tries came within 30 days of a teach-back"))
    r = f.reinvestment
    if r.minutes:
        told = f"{(r.share_told or 0) * 100:.0f}%"
        split = " · ".join(f"{REINVEST_CATEGORIES.get(k, k)} {hours(v)}" for k, v in r.split.told.items())
        blocks.append(section(f"*Reinvestment*: {hours(r.minutes)} saved; {told} has a stated destination"
                              + (f"\n{split}" if split else "")))
    else:
        blocks.append(section("*Reinvestment*: no time saved recorded in this period."))
    if f.new_named:
        blocks.append(section(f":wave: Welcome to the new adopters: {mentions(list(f.new_named))}"))
    blocks.append(section(trend_text(f)))
    return blocks


def trend_text(f: AdoptionFigures) -> str:
    first, last = f.trend[0], f.trend[-1]
    return (f"*Active members, last {len(f.trend)} weeks*: `{sparkline(f.trend)}` "
            f"{first.active:,} → {last.active:,}" + (f" ({pct(Share(last.active, last.members))})"
                                                      if last.members else ""))


def adoption_message(f: AdoptionFigures) -> dict[str, Any]:
    text = (f"AI adoption in {scope_name(f)}: coverage {pct(f.coverage.now)} ({period_name(f).lower()}), "
            f"{f.habit.count} with a habit, {f.new} new.")
    return ephemeral(text, adoption_blocks(f))


def refusal(allowed: tuple[str, ...]) -> dict[str, Any]:
    who = f" (for example {mentions(list(allowed))})" if allowed else ""
    return ephemeral(f"Sorry, adoption figures are for managers and workspace admins{who}. "
                     "An admin can add you with `/aiwin managers add @you`; `/aiwin stats` shows your own figures.")


def teams_list(teams: tuple[TeamView, ...]) -> dict[str, Any]:
    if not teams:
        return ephemeral("No teams yet. Admins mark a Slack user group as a team with "
                         "`/aiwin adoption teams add @design`.")
    lines = [f"• <!subteam^{t.group_id}> — {plural(t.members, 'member')}" for t in teams]
    return ephemeral("Teams for adoption figures:\n" + "\n".join(lines)
                     + "\nSee one with `/aiwin adoption @team`.")


def org_adoption_message(f: OrgFigures) -> dict[str, Any]:
    """`/aiwin adoption org`: the org's workspaces together, each person counted once."""
    first, end = f.period.first, f.period.last + timedelta(days=6)
    c = f.coverage
    blocks = [
        header("AI adoption · the whole org"),
        context(f"{first:%b} {first.day} – {end:%b} {end.day}, {end.year} (UTC weeks) · "
                f"{plural(len(f.workspaces), 'workspace')} · {plural(c.now.of, 'member')}, each counted once "
                "however many workspaces they are in"),
        section(f"*Coverage* (active members ÷ members)\nLast {f.period.count} weeks: *{pct(c.now)}* "
                f"({c.now.count:,} of {c.now.of:,}){change_text(c)}\n"
                f"*Wins*: {f.wins:,} · *Hours saved*: {hours(f.minutes)}"),
    ]
    if f.left_out:
        blocks.append(context(f":hourglass_flowing_sand: {plural(len(f.left_out), 'workspace')} not counted yet: "
                              "their member lists are still being copied from Slack. Try again in a minute."))
    text = (f"AI adoption across the org: coverage {pct(c.now)} (last {f.period.count} weeks) in "
            f"{plural(len(f.workspaces), 'workspace')}.")
    return ephemeral(text, blocks)


def org_refusal(*, in_org: bool) -> dict[str, Any]:
    if not in_org:
        return ephemeral("`/aiwin adoption org` is for Enterprise Grid orgs, and this workspace is not part of "
                         "one. `/aiwin adoption` shows this workspace.")
    return ephemeral("Sorry, adoption figures for the whole org are for the org's admins and owners. "
                     "`/aiwin adoption` shows this workspace's figures to its managers and admins.")
