"""The coach's questions read the playbook as a search does, so they count against the asker's search limit
(no side door around it). Signed events from the sandbox to the real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import BOB
from tests.test_coach import ask, seed


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, search_burst=2, search_per_minute=1.0)


def test_questions_past_the_search_limit_are_told_to_slow_down(slack, fake_slack, db):
    seed(db, "ran customer interviews with Claude and clustered the notes, saved 2h")
    question = "How have people here used AI for customer interviews?"
    for _ in range(2):
        assert "clustered the notes" in ask(fake_slack, BOB, question)[2]
    _, _, text = ask(fake_slack, BOB, question)
    assert "Slow down" in text and "clustered the notes" not in text
    assert "counts as a search" in text
    # Asking for help or drafting a win reads nothing: not limited.
    assert "Slow down" not in ask(fake_slack, BOB, "help")[2]
