"""Block Kit for figures: `/aiwin stats`, the reinvestment question, and the formatting App Home shares."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.blocks.common import button, context, ephemeral, section, user_text
from bot.blocks.words import hours, plural, tool_counts
from bot.services.figures import NOT_SAID, SHORT_WEEKS, Change, Personal, Split, Totals
from bot.services.stats import StatsReport, zone
from bot.services.wins import REINVEST_CATEGORIES, WinView

REINVEST_ACTION_PREFIX = "reinvest_pick_"


def day(moment: datetime, tz: str) -> str:
    local = moment.astimezone(zone(tz))
    return f"{local:%b} {local.day}"


def monday(week: date) -> str:
    """A week named by its Monday: "Mon Nov 30"."""
    return f"Mon {week:%b} {week.day}"


def split_text(split: Split) -> str:
    """"Customers 50% · Learning 25% · 25% with no destination given", shares of the minutes saved."""
    total = split.total
    if not total:
        return "_no time saved yet_"
    parts = [f"{REINVEST_CATEGORIES.get(k, 'Other')} {round(100 * v / total)}%"
             for k, v in split.told.items()]
    untold = split.minutes.get(NOT_SAID, 0)
    if untold:
        parts.append(f"{round(100 * untold / total)}% with no destination given")
    return " · ".join(parts)


def tools_text(top: tuple[tuple[str, int], ...]) -> str:
    if not top:
        return "_no tools named yet_"
    return tool_counts(top)


def coverage_text(cov: Change, known: bool = True) -> str:
    """Coverage over the last 4 weeks, as every surface words it."""
    now = cov.now
    if not known or now.share is None:
        return "_not known yet (the member list is still loading)_"
    return (f"*{round(100 * now.share)}%* of members ({now.count:,} of {now.of:,}) were active "
            f"in the last {SHORT_WEEKS} weeks")


def people_text(people: int | None) -> str:
    """"3 people active", or "people not known yet" before the member list's first copy."""
    return "people not known yet" if people is None else f"{plural(people, 'person', 'people')} active"


def period_line(p: Totals) -> str:
    return f"{plural(p.wins, 'win')} · {people_text(p.people)} · {hours(p.minutes)} saved"


def personal_lines(me: Personal) -> list[str]:
    return [
        f"*{plural(me.wins, 'win')}* in all · {me.wins_week:,} this week · {me.wins_month:,} this month",
        f"Time saved: *{hours(me.minutes_week)}* this week · *{hours(me.minutes_month)}* this month · "
        f"*{hours(me.minutes)}* all time",
        f"Where your time went: {split_text(me.split)}",
    ]


def stats_message(report: StatsReport) -> dict[str, Any]:
    """The ephemeral answer to `/aiwin stats`."""
    me = [":bar_chart: *Your AI wins*", *personal_lines(report.personal)]
    if report.opted_out:
        me.append("_You've opted out: you're counted in the team figures below, but never named. "
                  "`/aiwin optin` to rejoin._")
    blocks = [section("\n".join(me))]
    for title, p in (("this week", report.week), ("this month", report.month)):
        blocks.append(section("\n".join([
            f":busts_in_silhouette: *Team {title}* (since {monday(p.period.first)}, UTC)",
            period_line(p),
            f"Top tools: {tools_text(p.top_tools)}",
            f"Where the time went: {split_text(p.split)}",
        ])))
    blocks.append(section(f":dart: *Coverage:* {coverage_text(report.coverage, report.members_known)}"))
    blocks.append(context("Weeks are UTC weeks; a month is the weeks whose Thursday falls in it. People who "
                          "opted out are counted, never named. More on the app's Home tab."))
    me_p = report.personal
    return ephemeral(f"Your {plural(me_p.wins, 'AI win')}, {hours(me_p.minutes)} saved.", blocks)


def reinvest_question(win: WinView) -> tuple[str, list[dict[str, Any]]]:
    """The one DM asking where a win's saved time went, with a button per category."""
    saved = hours(win.minutes_saved)
    text = (f":seedling: A few days ago your AI win *#{win.id}* saved *{saved}*: "
            f"“{user_text(win.text, win.text_format, 300)}”\nWhat did you do with that time?")
    buttons = [button(label, f"{REINVEST_ACTION_PREFIX}{key}", f"{win.id}:{key}")
               for key, label in REINVEST_CATEGORIES.items()]
    blocks = [
        section(text),
        {"type": "actions", "block_id": f"reinvest:{win.id}", "elements": buttons},
        context("I ask once per win. Your answer shows where AI time goes in the team's stats. "
                "Rather not be asked? `/aiwin optout`"),
    ]
    return f"Your AI win #{win.id} saved {saved}: where did that time go?", blocks


def reinvest_thanks(win: WinView) -> dict[str, Any]:
    label = REINVEST_CATEGORIES.get(win.reinvested_in or "", "Other")
    saved = hours(win.minutes_saved) or "the time"
    text = (f":white_check_mark: Thanks! The {saved} saved by your AI win *#{win.id}* went to *{label}*. "
            f"It now counts in the team's stats.")
    return {"text": f"Thanks! Win #{win.id}'s time went to {label}.", "blocks": [section(text)]}
