"""Within one read, a request several sections need is sent once; outside one, every time."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from connectors.concurrency import gather
from connectors.reuse import Reads
from connectors.reuse import shared
from connectors.reuse import sharing


class Backend:
    """Counts what it was sent."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self._lock = threading.Lock()

    def ask(self, key: str) -> dict[str, str]:
        with self._lock:
            self.sent[key] += 1
        return {"answer": key}


def test_the_same_key_in_one_scope_is_sent_once_and_the_answer_shared() -> None:
    backend = Backend()
    with sharing(Reads()) as reads:
        first = shared(("diary", "week"), lambda: backend.ask("diary"))
        second = shared(("diary", "week"), lambda: backend.ask("diary"))
        other = shared(("diary", "month"), lambda: backend.ask("diary"))
    assert backend.sent["diary"] == 2 and len(reads) == 2
    assert first is second and other == {"answer": "diary"}


def test_outside_a_scope_every_request_is_sent() -> None:
    backend = Backend()
    for _ in range(3):
        shared("diary", lambda: backend.ask("diary"))
    assert backend.sent["diary"] == 3


def test_two_scopes_share_nothing() -> None:
    backend = Backend()
    for _ in range(2):
        with sharing(Reads()):
            shared("diary", lambda: backend.ask("diary"))
    assert backend.sent["diary"] == 2


def test_threads_asking_at_once_wait_for_the_one_request_in_flight() -> None:
    backend = Backend()
    started, release = threading.Event(), threading.Event()

    def slow() -> dict[str, str]:
        started.set()
        release.wait(10)
        return backend.ask("calendar")

    reads = Reads()
    answers: list[object] = []

    def section() -> None:
        with sharing(reads):
            answers.append(shared("calendar", slow))

    threads = [threading.Thread(target=section) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert started.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert backend.sent["calendar"] == 1
    assert len(answers) == 4 and all(a is answers[0] for a in answers)


def test_a_failed_request_fails_every_section_that_shares_it_without_a_resend() -> None:
    sent = Counter[str]()

    def broken() -> object:
        sent["marks"] += 1
        raise ConnectionError("reset")

    with sharing(Reads()):
        for _ in range(2):
            with pytest.raises(ConnectionError, match="reset"):
                shared("marks", broken)
    assert sent["marks"] == 1


def test_calls_gathered_at_once_stay_in_the_scope_of_their_caller() -> None:
    backend = Backend()
    # All four wait for each other, so three of them run on the gather's own threads.
    together = threading.Barrier(4, timeout=10)

    def section() -> dict[str, str]:
        together.wait()
        return shared("meetings", lambda: backend.ask("meetings"))

    with sharing(Reads()) as reads:
        gather([section] * 4)
    assert backend.sent["meetings"] == 1 and len(reads) == 1
