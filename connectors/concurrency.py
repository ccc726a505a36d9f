"""Run a fetch's independent backend requests at once, and size HTTP pools for it.

Why this exists: the gateway runs every child × section fetch in its own thread, but a
fetch often needs several requests that do not depend on each other (one per week, the
marks and the work types, the diary and the teachers). Sent one after another they put
one backend round trip each on the family page's critical path; :func:`gather` sends them
together, so a fetch costs as many round trips as its longest chain of dependent requests.

The sub-requests run on a pool of their own, never on the gateway's ``diary-fetch`` pool: a
fetch that waits on its sub-requests would otherwise hold a worker of the very pool they
queue on, and a full pool would deadlock. This pool cannot deadlock either, nested calls
included: the caller runs the first call itself and takes back every call no worker has
started yet, so it only ever waits on calls that are running. A busy pool makes a fetch
slower (down to one request at a time), never stuck.
"""

from __future__ import annotations

import contextvars
import os
import threading
import typing as t
from collections.abc import Callable
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

__all__ = ["POOL_SIZE", "Early", "gather", "pooled_session"]

T = t.TypeVar("T")
# Threads for sub-requests across all connectors, and connections per backend host of a
# connector's own session: a family page sends about 40 requests. The gateway passes its
# own sessions, bounded by each instance's concurrency limit.
POOL_SIZE = 32

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """Return the sub-request pool, creating it on first use."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="connector-request")
        return _executor


def _forget_pool() -> None:
    """Drop the parent's pool in a forked child: its threads did not survive the fork."""
    global _executor, _lock
    _executor, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


class _Outcome(t.Generic[T]):
    """What one call gave: a value or an exception (neither when it was never run)."""

    __slots__ = ("error", "value")

    def __init__(self) -> None:
        """Start as a call that has not run."""
        self.value: T | None = None
        self.error: BaseException | None = None

    def run(self, call: Callable[[], T]) -> None:
        """Run the call in this thread and keep what it gave."""
        try:
            self.value = call()
        except Exception as err:
            self.error = err

    def take(self, future: Future[T]) -> None:
        """Wait for a started call and keep what it gave."""
        self.error = future.exception()
        if self.error is None:
            self.value = future.result()


def gather(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run calls at once and return their results in the order of the calls.

    When calls fail, the exception of the first failed call in that order propagates, the
    very object it raised, as a sequential loop would have raised it. It propagates only
    after every call finished or was cancelled: a failure cancels the calls no one started.
    """
    if len(calls) < 2:
        return [call() for call in calls]
    failed = threading.Event()
    # Each call sees the caller's context: a read's shared requests stay shared.
    futures = [_pool().submit(contextvars.copy_context().run, call) for call in calls[1:]]

    def fail() -> None:
        """Mark the gather failed and cancel the calls no worker started."""
        failed.set()
        for future in futures:
            future.cancel()

    def stop(future: Future[T]) -> None:
        """Fail the gather as soon as a call on the pool failed."""
        if not future.cancelled() and future.exception() is not None:
            fail()

    outcomes: list[_Outcome[T]] = [_Outcome() for _ in calls]
    try:
        for future in futures:
            future.add_done_callback(stop)
        outcomes[0].run(calls[0])
        if outcomes[0].error is not None:
            fail()
        for call, future, outcome in zip(calls[1:], futures, outcomes[1:], strict=True):
            if not future.cancel():
                outcome.take(future)  # running or finished: its result is on the way
            elif not failed.is_set():
                outcome.run(call)  # no worker took it yet: run it here rather than wait
            if outcome.error is not None:
                fail()
    except BaseException:
        fail()
        raise
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return [t.cast(T, outcome.value) for outcome in outcomes]


class Early(t.Generic[T]):
    """A request sent before it is known to be needed: its failure counts only when used.

    Pass it to :func:`gather` beside the request that decides whether it is needed (the
    marks decide whether the work types are): both travel at once, and keeping its failure
    until :meth:`result` keeps the answers and errors of the sequential order.
    """

    def __init__(self, call: Callable[[], T]) -> None:
        """Wrap the request (and the reading of its answer)."""
        self._call = call
        self._value: T | None = None
        self._error: Exception | None = None

    def __call__(self) -> Early[T]:
        """Send the request now and keep its answer or its failure."""
        try:
            self._value = self._call()
        except Exception as err:
            self._error = err
        return self

    def result(self) -> T:
        """Return the answer, or raise the failure unchanged."""
        if self._error is not None:
            raise self._error
        return t.cast(T, self._value)


def pooled_session(limit: int | None = None) -> requests.Session:
    """Return a session whose per-host connection pools keep ``POOL_SIZE`` connections.

    With a ``limit``, each pool keeps that many and blocks rather than open one more: no
    more than ``limit`` requests are ever in flight to one host.
    """
    # requests keeps 10 per host by default: a wider fan-out to one backend would open and
    # drop extra connections on every page.
    http = requests.Session()
    adapter = (
        HTTPAdapter(pool_maxsize=POOL_SIZE)
        if limit is None
        else HTTPAdapter(pool_maxsize=max(1, limit), pool_block=True)
    )
    for prefix in ("https://", "http://"):
        http.mount(prefix, adapter)
    return http
