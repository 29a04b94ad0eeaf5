"""The monthly leadership report as Block Kit (pure)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.blocks.adoption import adoption_blocks, pct, trend_text
from bot.blocks.common import context, section
from bot.services.figures import Share
from bot.services.report import Report


def month_name(month: str) -> str:
    y, m = (int(x) for x in month.split("-"))
    return f"{date(y, m, 1):%B %Y}"


def _delta(now: Share, before: Share) -> str:
    if now.share is None or before.share is None:
        return "no comparison yet"
    pts = round((now.share - before.share) * 100, 1)
    return "no change" if pts == 0 else f"{'▲' if pts > 0 else '▼'} {abs(pts):g} pts"


def report_blocks(r: Report, *, image_file_id: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks). With `image_file_id` the trend is an image (by slack_file); without,
    the text trend line stands in for it."""
    f, b = r.figures, r.previous
    title = f"Your monthly AI adoption report · {month_name(r.month)}"
    blocks = adoption_blocks(f, title=title)
    compare = (f"*Against {month_name(_previous(r.month))}*: coverage {pct(f.coverage.now)} "
               f"({_delta(f.coverage.now, b.coverage.now)}) · habit {f.habit.count} (was {b.habit.count}) · "
               f"new {f.new} (was {b.new}) · leaders modeling {f.leaders.count} of {f.leaders.of} "
               f"(was {b.leaders.count}) · teach-backs delivered {f.pipeline.delivered} (was {b.pipeline.delivered})")
    blocks.insert(2, section(compare))
    if image_file_id:
        # The text trend stays under it as a caption, for screen readers and notifications.
        blocks.append({"type": "image", "slack_file": {"id": image_file_id},
                       "alt_text": trend_text(f).replace("*", "")[:2000],
                       "title": {"type": "plain_text", "text": "Active members, last 12 weeks"}})
    actions = "\n".join(f"{i}. {a}" for i, a in enumerate(r.actions, 1))
    blocks.append(section(f"*Three things to do this month*\n{actions}"))
    blocks.append(context("Figures are whole UTC weeks; people who opted out are counted but never named. "
                          "Nobody is ranked."))
    text = (f"AI adoption in {month_name(r.month)}: coverage {pct(f.coverage.now)} "
            f"({_delta(f.coverage.now, b.coverage.now)}), {f.new} new, {f.habit.count} with a habit.")
    return text, blocks[:50]


def _previous(month: str) -> str:
    from bot.services.report import month_before

    return month_before(month)
