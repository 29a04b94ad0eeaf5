"""Leadership modeling prompts: the library, rotation without repeats per channel, and the message
with its narrative button. The database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.blocks.prompts import OPEN_NARRATIVE, prompt_blocks
from bot.jobs.deliveries import render_delivery, run_tick
from bot.models import DELIVERY_FAILED, KIND_PROMPTS, Delivery
from bot.sandbox.fake_slack import block_errors
from bot.services.prompts import HABITS, PROMPTS, next_prompt
from bot.services.subscriptions import Schedule, get_delivery
from tests.conftest import TEAM
from tests.helpers import all_text
from tests.test_schedule import deliveries, make_sub

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

KEYS = [p.key for p in PROMPTS]
# Monday 7 Dec 2026, 09:00 in New York (EST): a prompts due instant.
MONDAY = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def test_library_has_a_dozen_prompts_over_the_four_habits():
    assert len(PROMPTS) >= 12
    assert len(set(KEYS)) == len(KEYS)
    assert {p.habit for p in PROMPTS} == set(HABITS)
    assert all(len(p.key) <= 64 and 20 < len(p.text) < 500 for p in PROMPTS)
    # Consecutive weeks change habit.
    assert all(a.habit != b.habit for a, b in zip(PROMPTS, PROMPTS[1:], strict=False))


def test_rotation_uses_every_prompt_once_then_cycles():
    used: list[str] = []
    for _ in range(len(PROMPTS)):
        used.append(next_prompt(used).key)
    assert used == KEYS
    assert next_prompt(used).key == KEYS[0]  # a new cycle
    assert next_prompt([*used, KEYS[0]]).key == KEYS[1]


def test_rotation_skips_what_was_used_and_ignores_retired_keys():
    assert next_prompt([KEYS[0], KEYS[2]]).key == KEYS[1]
    assert next_prompt(["retired-prompt", KEYS[0]]).key == KEYS[1]
    # A repeat (someone posted one by hand twice) starts a new cycle from there.
    assert next_prompt([KEYS[0], KEYS[1], KEYS[1]]).key == KEYS[0]


def test_prompt_message_has_the_narrative_button():
    text, blocks = prompt_blocks(PROMPTS[0], period="2026-W50", channel_id="C0LEADERS1", has_policy=True,
                                 policy_url="https://intranet.example/ai")
    assert block_errors(blocks, max_blocks=50) == []
    [button] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == OPEN_NARRATIVE == "open_narrative_modal"
    assert json.loads(button["value"]) == {"prompt_period": "2026-W50", "channel_id": "C0LEADERS1"}
    said = all_text(blocks)
    assert PROMPTS[0].text in said and "Modeling use" in said and "/aiwin policy" in said
    assert PROMPTS[0].text in text


def test_each_channel_rotates_on_its_own_without_repeats(db):
    make_sub(db, "C0LEADERS1", kind=KIND_PROMPTS)
    weeks = len(PROMPTS) + 3
    for week in range(weeks):
        if week == 5:
            make_sub(db, "C0LEADERS2", kind=KIND_PROMPTS, since=MONDAY + timedelta(days=7 * week - 1))
        assert run_tick(db, now=MONDAY + timedelta(days=7 * week, minutes=1)).errors == 0
    by_channel: dict[str, list[str]] = {}
    for d in deliveries(db):
        by_channel.setdefault(d.channel_id, []).append(d.prompt_key)
    assert by_channel["C0LEADERS1"] == KEYS + KEYS[:3]
    assert by_channel["C0LEADERS2"] == KEYS[: weeks - 5]

    # What each delivery posts is the prompt it claimed.
    with db.read(TEAM) as s:
        for d in deliveries(db)[:5]:
            _, blocks = render_delivery(s, get_delivery(s, d.id))
            assert PROMPTS[KEYS.index(d.prompt_key)].text in all_text(blocks)
            assert json.loads(blocks[3]["elements"][0]["value"])["prompt_period"] == d.period


def test_a_failed_post_does_not_use_up_its_prompt(db):
    make_sub(db, "C0LEADERS1", kind=KIND_PROMPTS, schedule=Schedule(0, 9, 0))
    run_tick(db, now=MONDAY + timedelta(minutes=1))
    with db.session() as s:
        s.execute(update(Delivery).values(status=DELIVERY_FAILED, error="not_in_channel")
                  .execution_options(all_tenants=True))
    run_tick(db, now=MONDAY + timedelta(days=7, minutes=1))
    assert [d.prompt_key for d in deliveries(db)] == [KEYS[0], KEYS[0]]
