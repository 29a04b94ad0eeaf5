"""Leadership modeling prompts: a small library, each prompt tied to one of the four habits, and
the rotation that gives a channel a prompt it has not had yet (cycling once it has had them all)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.models import DELIVERY_CLAIMED, DELIVERY_POSTED, KIND_PROMPTS
from bot.services.subscriptions import channel_history

HABITS = {
    "model": "Modeling use",
    "expectations": "Setting clear expectations",
    "reinvest": "Reinvesting time gains",
    "celebrate": "Celebrating smart use",
}


@dataclass(frozen=True)
class Prompt:
    key: str  # stored in Delivery.prompt_key: never rename one that has been sent
    habit: str  # a key of HABITS
    text: str

    @property
    def habit_label(self) -> str:
        return HABITS[self.habit]


# In rotation order: the habits take turns week by week.
PROMPTS: tuple[Prompt, ...] = (
    Prompt("model-how", "model",
           "Share one way you used AI this week, and narrate how: what you asked, what you checked, "
           "what you kept."),
    Prompt("expect-always-never", "expectations",
           "Tell your team one kind of work they can always try AI on, and one where they never should."),
    Prompt("reinvest-where", "reinvest",
           "Where did the time AI saved you this week go? Customers, strategy, learning, quality, "
           "creative work or rest? Say it out loud so your team can do the same."),
    Prompt("celebrate-callout", "celebrate",
           "Call out someone on your team who used AI well this week, and say why it mattered."),
    Prompt("model-prompt", "model",
           "Show your work: share a prompt that helped you this week and what you changed in the answer."),
    Prompt("expect-policy", "expectations",
           "Which part of our AI policy matters most for your team's work? Put it in your own words."),
    Prompt("reinvest-two-hours", "reinvest",
           "If AI gives your team two hours back next week, what should those hours go to? Tell them."),
    Prompt("celebrate-teachback", "celebrate",
           "Pick one AI win from this week that the whole team should learn from, and nominate it "
           "for a teach-back."),
    Prompt("model-miss", "model",
           "What did you try with AI this week that did not work? Share what you learned: misses "
           "teach as much as wins."),
    Prompt("expect-try-first", "expectations",
           "Name one task where you expect people to try AI first this month, and what good looks like."),
    Prompt("reinvest-stop", "reinvest",
           "Ask your team: what would you stop doing if AI took over the first draft? "
           "Then protect that time."),
    Prompt("celebrate-experiment", "celebrate",
           "Thank someone who shared an AI experiment, even one that didn't pan out. "
           "Say what the team learned."),
    Prompt("model-decision", "model",
           "Walk us through a decision where AI gave you a first draft and you made the call. What did you "
           "keep, and what did you throw away?"),
    Prompt("expect-check", "expectations",
           "What should people always double-check in AI output on your team? Share your own checklist."),
    Prompt("reinvest-learning", "reinvest",
           "Spend 30 minutes of saved time learning one new AI technique this week, then share what you "
           "tried."),
    Prompt("celebrate-newcomer", "celebrate",
           "Welcome someone's first AI win: find a teammate who tried AI for the first time and "
           "celebrate it."),
)
BY_KEY = {p.key: p for p in PROMPTS}


def next_prompt(used_keys: list[str], library: tuple[Prompt, ...] = PROMPTS) -> Prompt:
    """The first prompt (in library order) not used in the current cycle of `used_keys`
    (oldest first); when a cycle has used every prompt, a new cycle starts."""
    keys = {p.key for p in library}
    cycle: set[str] = set()
    for key in used_keys:
        if key not in keys:
            continue  # retired from the library
        if key in cycle:
            cycle = set()
        cycle.add(key)
        if len(cycle) == len(keys):
            cycle = set()
    return next(p for p in library if p.key not in cycle)


def prompt_for_channel(session: Session, team_id: str, channel_id: str, *,
                       before: str | None = None) -> Prompt:
    """The next prompt for a channel, from the prompts it was actually sent (posted or on the way;
    a failed post does not use one up). `before` limits the history to earlier periods."""
    used = [d.prompt_key for d in channel_history(session, team_id, KIND_PROMPTS, channel_id)
            if d.prompt_key and d.status in (DELIVERY_POSTED, DELIVERY_CLAIMED)
            and (before is None or d.period < before)]
    return next_prompt(used)
