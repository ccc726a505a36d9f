"""Ask a backend once for what several sections of one read need.

Why this exists: a system often serves several sections from one answer (NetSchool's diary
holds the marks, the homework and the lessons; MESH's event calendar the lessons, the
absences and the meetings). The gateway fetches each section in its own thread, so each
section would send the same request again. Inside :func:`sharing`, a client's
:func:`shared` request with a given key is sent once: the first thread to ask sends it,
the others asking meanwhile or later wait for and take the same answer, or the same error.

A scope is one read of one login's children (the gateway opens one per stored
credential and read), so an answer is never reused across parents or across reads. Keys
carry the login's token or cookies: a session renewed after an expiry asks again.
Answers are shared, not copied; the normalizers read them and never change them.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import typing as t
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterator
from concurrent.futures import Future

__all__ = ["Reads", "shared", "sharing"]

T = t.TypeVar("T")

_current: contextvars.ContextVar[Reads | None] = contextvars.ContextVar(
    "connector_reads", default=None
)


class Reads:
    """The requests sent within one scope, by key, with their answers once they came."""

    def __init__(self) -> None:
        """Start with nothing sent."""
        self._lock = threading.Lock()
        self._sent: dict[Hashable, Future[t.Any]] = {}

    def __len__(self) -> int:
        """Return how many distinct requests were sent."""
        return len(self._sent)

    def once(self, key: Hashable, send: Callable[[], T]) -> T:
        """Return the answer to ``key``, sending it with ``send`` only the first time."""
        with self._lock:
            answer = self._sent.get(key)
            first = answer is None
            if answer is None:
                answer = self._sent[key] = Future()
        if first:
            try:
                answer.set_result(send())
            except BaseException as err:
                answer.set_exception(err)
        return t.cast(T, answer.result())


@contextlib.contextmanager
def sharing(reads: Reads) -> Iterator[Reads]:
    """Share the :func:`shared` requests of this thread (and what it gathers) in ``reads``."""
    token = _current.set(reads)
    try:
        yield reads
    finally:
        _current.reset(token)


def shared(key: Hashable, send: Callable[[], T]) -> T:
    """Send a request, or take the answer the current scope already has for ``key``.

    Outside :func:`sharing` the request is simply sent.
    """
    reads = _current.get()
    return send() if reads is None else reads.once(key, send)
