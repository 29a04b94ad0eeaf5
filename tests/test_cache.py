"""bot/cache.py: the one in-process cache type, on a clock the test turns."""

from __future__ import annotations

from bot.cache import FOREVER, TTLMemo


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_loaded_value_is_remembered_until_it_expires():
    clock, loads = Clock(), []
    memo: TTLMemo[str, int] = TTLMemo(ttl=10.0, timer=clock)

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert memo.get_or_load("T1", load) == 1
    clock.now = 9.9
    assert memo.get_or_load("T1", load) == 1
    clock.now = 10.0
    assert memo.get_or_load("T1", load) == 2  # expired: loaded again
    assert len(loads) == 2


def test_a_falsy_value_is_remembered_and_none_is_not():
    memo: TTLMemo[str, bool] = TTLMemo(ttl=10.0, timer=Clock())
    assert memo.get_or_load("T1", lambda: False) is False
    assert memo.get_or_load("T1", lambda: True) is False  # False was remembered
    assert memo.get_or_load("T2", lambda: None) is None
    assert memo.get_or_load("T2", lambda: True) is True  # None was not


def test_put_renews_and_says_what_was_there():
    clock = Clock()
    memo: TTLMemo[str, bool] = TTLMemo(ttl=10.0, timer=clock)
    assert memo.put("k", True) is None
    clock.now = 8.0
    assert memo.put("k", True) is True  # still there: a burst goes on
    clock.now = 17.0
    assert memo.get("k") is True  # renewed at 8.0
    clock.now = 18.0
    assert memo.get("k") is None


def test_pop_and_clear_forget():
    memo: TTLMemo[str, int] = TTLMemo(ttl=FOREVER, timer=Clock())
    memo.put("a", 1)
    memo.put("b", 2)
    memo.pop("a")
    memo.pop("missing")
    assert (memo.get("a"), memo.get("b")) == (None, 2)
    memo.clear()
    assert len(memo) == 0


def test_maxsize_drops_the_least_recently_used():
    memo: TTLMemo[int, int] = TTLMemo(ttl=FOREVER, maxsize=3, timer=Clock())
    for i in range(3):
        memo.put(i, i)
    memo.get(0)  # used: kept
    memo.put(3, 3)
    assert [memo.get(i) for i in range(4)] == [0, None, 2, 3]


def test_locked_is_one_step_read_then_write():
    memo: TTLMemo[str, int] = TTLMemo(ttl=10.0, timer=Clock())
    with memo.locked() as cache:
        cache["n"] = cache.get("n", 0) + 1
    assert memo.get("n") == 1
