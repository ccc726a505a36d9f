"""connectors.concurrency: order, errors, real overlap, cancellation, no deadlock, pools."""

from __future__ import annotations

import threading
import time
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors import concurrency
from connectors.concurrency import gather
from connectors.concurrency import pooled_session
from connectors.errors import BackendUnavailable
from connectors.errors import SessionExpired

# A guard against a hang, not a timing assertion: a correct gather never gets near it.
GUARD = 30.0


class _CancelAware(ThreadPoolExecutor):
    """A pool that tells ``cancelled`` when one of its futures is cancelled."""

    def __init__(self, workers: int) -> None:
        """Start ``workers`` threads."""
        super().__init__(workers, thread_name_prefix="test-connector-request")
        self.cancelled = threading.Event()

    def submit(self, fn: t.Any, /, *args: t.Any, **kwargs: t.Any) -> Future[t.Any]:
        """Submit as usual and watch for cancellation."""
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(lambda f: self.cancelled.set() if f.cancelled() else None)
        return future


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[_CancelAware]:
    """Replace the module's pool by one of a single worker."""
    pool = _CancelAware(1)
    monkeypatch.setattr(concurrency, "_executor", pool)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def _in_thread(run: Callable[[], t.Any]) -> t.Any:
    """Run ``run`` in a thread, fail the test if it hangs, and return or raise its outcome."""
    outcome: dict[str, t.Any] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as err:  # handed back to the test
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(GUARD)
    assert not thread.is_alive(), "gather hung"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_no_calls_and_one_call_need_no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to overlap: the caller runs the call itself."""
    monkeypatch.setattr(concurrency, "_executor", None)
    assert gather([]) == []
    assert gather([threading.current_thread]) == [threading.current_thread()]
    assert concurrency._executor is None


def test_results_come_in_the_order_of_the_calls_not_of_completion() -> None:
    """Each call waits for the next one to finish, so they complete last to first."""
    count = 6
    finished = [threading.Event() for _ in range(count)]

    def call(i: int) -> Callable[[], int]:
        def run() -> int:
            if i + 1 < count:
                assert finished[i + 1].wait(GUARD)
            finished[i].set()
            return i * 10

        return run

    assert _in_thread(lambda: gather([call(i) for i in range(count)])) == [0, 10, 20, 30, 40, 50]


def test_calls_really_overlap() -> None:
    """A barrier of N parties only trips when all N calls are running at once."""
    parties = 8
    barrier = threading.Barrier(parties, timeout=GUARD)
    caller, threads = _in_thread(
        lambda: (
            threading.get_ident(),
            gather([lambda: (barrier.wait(), threading.get_ident())[1]] * parties),
        )
    )
    assert len(set(threads)) == parties
    assert threads[0] == caller  # the caller ran the first call in its own thread


def test_the_first_failure_in_call_order_propagates_unchanged() -> None:
    """Several failures: the one a sequential loop would have met first, the same object."""
    early = SessionExpired("first in call order")
    late = BackendUnavailable("raised first in time")
    late_raised = threading.Event()

    def first() -> None:
        assert late_raised.wait(GUARD)
        raise early

    def second() -> None:
        late_raised.set()
        raise late

    with pytest.raises(SessionExpired) as raised:
        _in_thread(lambda: gather([lambda: 1, first, lambda: 3, second]))
    assert raised.value is early


def test_a_failure_propagates_after_the_running_calls_finished() -> None:
    """The failure waits for a call already in flight: nothing outlives the gather."""
    started, finished = threading.Event(), threading.Event()

    def failing() -> None:
        assert started.wait(GUARD)
        raise BackendUnavailable("down")

    def slow() -> str:
        started.set()
        time.sleep(0.05)  # only widens the window in which a wrong gather would return
        finished.set()
        return "late"

    with pytest.raises(BackendUnavailable):
        _in_thread(lambda: gather([failing, slow]))
    assert finished.is_set()


def test_a_failure_cancels_the_calls_no_worker_started(small_pool: _CancelAware) -> None:
    """One worker busy, the rest queued: the failure cancels them, none of them runs."""
    ran: list[int] = []
    started = threading.Event()
    error = BackendUnavailable("down")

    def failing() -> None:
        assert started.wait(GUARD)
        raise error

    def busy() -> None:
        started.set()
        assert small_pool.cancelled.wait(GUARD)  # released once the queue was cancelled
        ran.append(1)

    def queued(i: int) -> Callable[[], None]:
        return lambda: ran.append(i)

    with pytest.raises(BackendUnavailable) as raised:
        _in_thread(lambda: gather([failing, busy, queued(2), queued(3), queued(4)]))
    assert raised.value is error
    assert ran == [1]


def test_nested_gathers_on_a_busy_pool_do_not_deadlock(small_pool: _CancelAware) -> None:
    """The caller takes back calls no worker started, so even one worker is enough."""

    def outer(i: int) -> Callable[[], list[int]]:
        return lambda: gather([lambda j=j: i * 10 + j for j in range(3)])

    result = _in_thread(lambda: gather([outer(i) for i in range(4)]))
    assert result == [[0, 1, 2], [10, 11, 12], [20, 21, 22], [30, 31, 32]]


def test_the_pool_is_created_once_and_is_not_the_gateways(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lazily created, bounded pool of its own threads."""
    monkeypatch.setattr(concurrency, "_executor", None)
    barrier = threading.Barrier(3, timeout=GUARD)
    names = gather([lambda: (barrier.wait(), threading.current_thread().name)[1]] * 3)
    pool = concurrency._executor
    assert pool is not None and pool is concurrency._pool()
    assert pool._max_workers == concurrency.POOL_SIZE
    assert all(n.startswith("connector-request") for n in names[1:])
    pool.shutdown(wait=True)


def test_a_pooled_session_keeps_enough_connections_per_host() -> None:
    """Both schemes get an adapter with a pool as large as the fan-out."""
    http = pooled_session()
    for url in ("https://school.example", "http://127.0.0.1:9101"):
        assert http.get_adapter(url)._pool_maxsize == concurrency.POOL_SIZE  # type: ignore[attr-defined]
