"""Refresh slightly old snapshots behind the page, so the page need not wait for them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait

from connectors.schema import Period
from connectors.schema import Section

log = logging.getLogger(__name__)


class Revalidator:
    """Refresh snapshots behind the page, once per set of children, sections and period.

    ``refresh`` does the work in its own database session; it runs on a small pool of its
    own, never on the fetch pool it waits on.
    """

    def __init__(
        self,
        *,
        refresh: Callable[[list[int], list[Section], Period], None],
        executor: ThreadPoolExecutor,
    ) -> None:
        """Run ``refresh`` on ``executor``."""
        self._refresh = refresh
        self._executor = executor
        self._running: set[tuple[tuple[int, ...], tuple[Section, ...], Period]] = set()
        self._futures: list[Future[None]] = []
        self._lock = threading.Lock()

    def __call__(self, link_ids: list[int], sections: list[Section], period: Period) -> None:
        """Start a refresh unless the same one is already running."""
        key = (tuple(link_ids), tuple(sections), period)
        with self._lock:
            if key in self._running:
                return
            self._running.add(key)
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(self._executor.submit(self._run, key))

    def _run(self, key: tuple[tuple[int, ...], tuple[Section, ...], Period]) -> None:
        try:
            self._refresh(list(key[0]), list(key[1]), key[2])
        except Exception:  # a background refresh must never take the worker down
            log.exception("background refresh failed")
        finally:
            with self._lock:
                self._running.discard(key)

    def drain(self) -> None:
        """Wait for the refreshes under way (tests, shutdown)."""
        with self._lock:
            futures = list(self._futures)
        wait(futures)
