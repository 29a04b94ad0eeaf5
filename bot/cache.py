"""The one kind of in-process cache: cachetools' TTLCache (bounded, least recently used out first,
entries expire `ttl` seconds after they were stored) behind a lock, since listeners, the job worker and
the scheduler share it from several threads. What each cache holds, and for how long, is said where it
is made."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from cachetools import TTLCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()
FOREVER = float("inf")  # for what never changes (a message's permalink): only `maxsize` bounds it


class TTLMemo(Generic[K, V]):
    def __init__(self, ttl: float, *, maxsize: int = 10_000, timer: Callable[[], float] = time.monotonic) -> None:
        self._cache: TTLCache[K, V] = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: K, value: V) -> V | None:
        """Remember `value` for a full `ttl` from now; returns what was remembered before (None if nothing)."""
        with self._lock:
            previous = self._cache.get(key)
            self._cache[key] = value
            return previous

    def get_or_load(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The remembered value, else `load()`'s, remembered unless it is None. `load` runs outside the lock
        (it may ask Slack or the database), so two threads may load the same key at once; both get an answer."""
        with self._lock:
            known = self._cache.get(key, _MISSING)
        if known is not _MISSING:
            return known  # type: ignore[return-value]
        value = load()
        if value is not None:
            with self._lock:
                self._cache[key] = value
        return value

    def pop(self, key: K) -> None:
        with self._lock:
            self._cache.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    @contextmanager
    def locked(self) -> Iterator[TTLCache[K, V]]:
        """The cache itself, held under the lock: for a read-then-write that must be one step."""
        with self._lock:
            yield self._cache

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)
