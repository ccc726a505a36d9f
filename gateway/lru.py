"""A bounded, thread-safe, least-recently-used memo for one process.

Keys must name everything the value was made from: nothing here expires on its own, so a
key that misses an input serves an old value for as long as the entry lives.
"""

from __future__ import annotations

import threading
import typing as t
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Hashable

V = t.TypeVar("V")


class Lru(t.Generic[V]):
    """Remember at most ``capacity`` values, dropping the least recently used first."""

    def __init__(self, capacity: int) -> None:
        """Start empty."""
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Return how many values are remembered."""
        return len(self._items)

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """Return the value remembered for ``key``, making (outside the lock) on a miss.

        Two threads missing the same key at once both make it; the values are equal by
        construction, so the second simply replaces the first.
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        rv = make()
        with self._lock:
            self._items[key] = rv
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return rv
