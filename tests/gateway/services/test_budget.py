"""Each backend's shared budget, step by step, on both stores and a clock the test moves."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from connectors.errors import BackendUnavailable
from connectors.errors import RateLimited
from gateway.services import health
from gateway.services.budget import Allowance
from gateway.services.budget import Budget
from gateway.services.budget import CircuitOpen
from gateway.services.budget import CircuitState
from gateway.services.budget import Outcome
from gateway.services.budget import OverBudget
from gateway.services.budget import Policy
from gateway.services.budget import Store
from gateway.services.budget import budget_from
from gateway.services.budget_stores import RedisStore
from gateway.services.budget_stores import SqliteStore
from gateway.services.fetching import Limits
from tests.conftest import REDIS_URL
from tests.support.live import unavailable

START = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
BACKEND = Allowance(instance_id=7, concurrency=2, per_minute=3)
POLICY = Policy(max_wait=5.0, lease_for=60.0, failures_to_open=3, cool_down=30.0)
# The Redis tests' own database: CI's REDIS_URL when set, else db 13 (15 is CI's).
BUDGET_REDIS_URL = REDIS_URL or "redis://127.0.0.1:6379/13"


class MovedClock:
    """A clock that only moves when told to, or when the budget sleeps on it."""

    def __init__(self) -> None:
        """Start at ``START``."""
        self.at = START
        self.slept = 0.0

    def __call__(self) -> dt.datetime:
        """Return the current time."""
        return self.at

    def advance(self, seconds: float) -> None:
        """Move the time on."""
        self.at += dt.timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        """Wait by moving the time on, and count the wait."""
        self.slept += seconds
        self.advance(seconds)


def redis_client() -> redis.Redis:
    """Return the tests' Redis, or skip (fail under CI) when it does not answer."""
    client = redis.Redis.from_url(BUDGET_REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        unavailable(f"Redis is not reachable at {BUDGET_REDIS_URL}")
    return client


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store, empty: a SQLite file of its own, or a Redis prefix of its own."""
    if request.param == "sqlite":
        yield SqliteStore(tmp_path / "budget.sqlite3", window=60.0)
        return
    client = redis_client()
    prefix = f"test-budget:{uuid.uuid4().hex}:"
    yield RedisStore(client, prefix=prefix, window=60.0)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


@pytest.fixture
def clock() -> MovedClock:
    """Return a clock the test moves."""
    return MovedClock()


@pytest.fixture
def budget(store: Store, clock: MovedClock) -> Budget:
    """Return a budget on the store, the clock, and a sleep that moves the clock."""
    return Budget(store, clock=clock, sleep=clock.sleep, policy=POLICY)


def _spend(budget: Budget, allowance: Allowance = BACKEND) -> None:
    budget.finish(budget.admit(allowance), Outcome.OK)


def test_no_more_than_the_minutes_permits_in_any_sixty_seconds(
    budget: Budget, clock: MovedClock
) -> None:
    clock.advance(50)
    for _ in range(3):  # at 50, 52 and 54 s: late in the clock's minute
        _spend(budget)
        clock.advance(2)
    clock.advance(5)  # 61 s: a fixed window would start a fresh minute here
    with pytest.raises(OverBudget) as refused:
        budget.admit(BACKEND)
    # The oldest permit frees at 110 s, 49 s away: beyond the wait, so refused at once.
    assert refused.value.retry_after == pytest.approx(49.0)
    assert clock.slept == 0.0
    clock.advance(49)
    _spend(budget)


def test_a_request_waits_for_a_permit_within_the_bound(budget: Budget, clock: MovedClock) -> None:
    for _ in range(3):
        _spend(budget)
    clock.advance(57)  # the oldest permit frees in 3 s, within the 5 s wait
    budget.admit(BACKEND)
    assert clock.slept == pytest.approx(3.0)


def test_no_more_requests_in_flight_than_the_limit(budget: Budget, clock: MovedClock) -> None:
    wide = Allowance(instance_id=7, concurrency=2, per_minute=100)
    first, _second = budget.admit(wide), budget.admit(wide)
    with pytest.raises(OverBudget):
        budget.admit(wide)
    assert clock.slept >= POLICY.max_wait - POLICY.poll  # it waited for a slot, then gave up
    budget.finish(first, Outcome.OK)
    budget.admit(wide)


def test_a_lease_never_given_back_expires(budget: Budget, clock: MovedClock) -> None:
    one = Allowance(instance_id=7, concurrency=1, per_minute=100)
    budget.admit(one)  # its holder dies without finishing
    with pytest.raises(OverBudget):
        budget.admit(one)
    clock.advance(POLICY.lease_for)
    budget.admit(one)


def test_instances_have_budgets_of_their_own(budget: Budget) -> None:
    for _ in range(3):
        _spend(budget)
    _spend(budget, Allowance(instance_id=8, concurrency=2, per_minute=3))


def test_a_pause_refuses_at_once_with_the_time_left_then_ends(
    budget: Budget, clock: MovedClock
) -> None:
    budget.pause(7, 30)
    clock.advance(10)
    with pytest.raises(OverBudget) as refused:
        budget.admit(BACKEND)
    assert refused.value.retry_after == pytest.approx(20.0) and clock.slept == 0.0
    assert budget.paused_until(7) == START + dt.timedelta(seconds=30)
    budget.pause(7, 5)  # a shorter pause does not cut the longer one short
    assert budget.paused_until(7) == START + dt.timedelta(seconds=30)
    clock.advance(20)
    assert budget.paused_until(7) is None
    _spend(budget)


def test_a_pause_without_retry_after_lasts_the_default_and_a_huge_one_is_capped(
    budget: Budget,
) -> None:
    budget.pause(7, None)
    assert budget.paused_until(7) == START + dt.timedelta(seconds=POLICY.default_pause)
    budget.pause(8, 10**9)
    assert budget.paused_until(8) == START + dt.timedelta(seconds=POLICY.max_pause)


def _fail(budget: Budget, times: int) -> None:
    for _ in range(times):
        budget.finish(
            budget.admit(Allowance(instance_id=7, concurrency=2, per_minute=100)), Outcome.FAILED
        )


WIDE = Allowance(instance_id=7, concurrency=2, per_minute=100)


def test_consecutive_failures_open_the_circuit_and_calls_fail_fast(
    budget: Budget, clock: MovedClock
) -> None:
    _fail(budget, 2)
    assert budget.state(7) is CircuitState.CLOSED
    _fail(budget, 1)
    assert budget.state(7) is CircuitState.OPEN
    with pytest.raises(CircuitOpen) as refused:
        budget.admit(WIDE)
    assert refused.value.probe_at == START + dt.timedelta(seconds=30)
    assert budget.probe_at(7) == START + dt.timedelta(seconds=30)
    assert isinstance(refused.value, BackendUnavailable) and clock.slept == 0.0


def test_a_success_between_failures_starts_the_count_again(budget: Budget) -> None:
    _fail(budget, 2)
    budget.finish(budget.admit(WIDE), Outcome.OK)
    _fail(budget, 2)
    assert budget.state(7) is CircuitState.CLOSED


def test_after_the_cool_down_one_probe_goes_and_its_success_closes_the_circuit(
    budget: Budget, clock: MovedClock
) -> None:
    _fail(budget, 3)
    clock.advance(30)
    assert budget.state(7) is CircuitState.HALF_OPEN
    probe = budget.admit(WIDE)
    with pytest.raises(CircuitOpen):  # only one probe at a time
        budget.admit(WIDE)
    budget.finish(probe, Outcome.OK)
    assert budget.state(7) is CircuitState.CLOSED and budget.probe_at(7) is None
    _spend(budget, WIDE)


def test_a_failed_probe_opens_the_circuit_for_another_cool_down(
    budget: Budget, clock: MovedClock
) -> None:
    _fail(budget, 3)
    clock.advance(30)
    budget.finish(budget.admit(WIDE), Outcome.FAILED)
    assert budget.state(7) is CircuitState.OPEN
    assert budget.probe_at(7) == START + dt.timedelta(seconds=60)


def test_a_probe_whose_holder_died_lets_another_probe_go_after_its_lease(
    budget: Budget, clock: MovedClock
) -> None:
    _fail(budget, 3)
    clock.advance(30)
    budget.admit(WIDE)  # never finished
    with pytest.raises(CircuitOpen):
        budget.admit(WIDE)
    clock.advance(POLICY.lease_for)
    assert budget.admit(WIDE).probe


def test_a_neutral_probe_lets_the_next_request_probe(budget: Budget, clock: MovedClock) -> None:
    _fail(budget, 3)
    clock.advance(30)
    budget.finish(budget.admit(WIDE), Outcome.NEUTRAL)  # a 429 says nothing of health
    assert budget.state(7) is CircuitState.HALF_OPEN
    assert budget.admit(WIDE).probe


def test_a_reset_closes_the_circuit_and_ends_the_pause(budget: Budget) -> None:
    _fail(budget, 3)
    budget.pause(7, 30)
    budget.reset(7)
    assert budget.state(7) is CircuitState.CLOSED and budget.paused_until(7) is None
    _spend(budget, WIDE)


def test_two_budgets_on_one_store_share_everything(store: Store, clock: MovedClock) -> None:
    """Two processes of one deployment: each a budget of its own on the same store."""
    first = Budget(store, clock=clock, sleep=clock.sleep, policy=POLICY)
    second = Budget(store, clock=clock, sleep=clock.sleep, policy=POLICY)
    for _ in range(3):
        _spend(first)
    with pytest.raises(OverBudget):
        second.admit(BACKEND)
    _fail(first, 3)
    assert second.state(7) is CircuitState.OPEN


def test_the_factory_keeps_the_budget_in_a_file_without_a_redis_url(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "budget.sqlite3"
    embedded = budget_from(None, path=path)
    assert isinstance(embedded.store, SqliteStore)
    assert not path.exists()  # nothing is written before a backend is called
    embedded.pause(1, 30)
    assert path.exists() and path.stat().st_mode & 0o777 == 0o600


def test_the_factory_keeps_the_budget_on_redis_with_a_url(tmp_path: Path) -> None:
    redis_client()
    shared = budget_from(BUDGET_REDIS_URL, path=tmp_path / "unused.sqlite3")
    assert isinstance(shared.store, RedisStore)
    assert not (tmp_path / "unused.sqlite3").exists()


def test_concurrent_threads_never_take_more_than_the_minutes_permits(
    store: Store,
) -> None:
    """Many threads at once on the real clock: exactly the minute's permits go through."""
    budget = Budget(store, policy=Policy(max_wait=0.5))
    allowance = Allowance(instance_id=9, concurrency=50, per_minute=25)
    admitted: list[int] = []

    def spend() -> None:
        for _ in range(5):
            try:
                budget.finish(budget.admit(allowance), Outcome.OK)
            except OverBudget:
                continue
            admitted.append(1)

    threads = [threading.Thread(target=spend) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 25


def test_a_fetch_gate_pauses_on_the_backends_throttling_not_on_its_own(
    budget: Budget, clock: MovedClock
) -> None:
    gate = Limits(budget=budget).of(7, 2)
    with pytest.raises(OverBudget), gate:
        raise OverBudget("ours", retry_after=40)
    assert budget.paused_until(7) is None
    with pytest.raises(RateLimited), gate:
        raise RateLimited("requestLimit", retry_after=40)
    assert budget.paused_until(7) == START + dt.timedelta(seconds=40)


def test_a_fetch_gate_refuses_before_taking_a_slot_while_the_circuit_is_open(
    budget: Budget,
) -> None:
    gate = Limits(budget=budget).of(7, 1)
    _fail(budget, 3)
    with pytest.raises(CircuitOpen), gate:
        pytest.fail("the fetch ran")
    assert gate.acquire(blocking=False)  # the slot was never taken


def test_degraded_instances_are_those_open_half_open_or_paused(
    budget: Budget, clock: MovedClock
) -> None:
    _fail(budget, 3)
    budget.pause(8, 30)
    assert health.degraded_instances(budget, [7, 8, 9]) == {7, 8}
    clock.advance(30)
    assert health.degraded_instances(budget, [7, 8, 9]) == {7}  # half-open, not probed yet
    budget.finish(budget.admit(WIDE), Outcome.OK)
    assert health.degraded_instances(budget, [7, 8, 9]) == set()
    assert health.degraded_instances(None, [7]) == set()
