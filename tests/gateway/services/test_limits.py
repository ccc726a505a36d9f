"""Per-backend fetch limits: a semaphore per instance, following the instance's setting."""

from __future__ import annotations

from gateway.services.fetching import Limits


def _free_slots(limits: Limits, instance_id: int, limit: int) -> int:
    semaphore = limits.of(instance_id, limit)
    taken = 0
    while semaphore.acquire(blocking=False):
        taken += 1
    for _ in range(taken):
        semaphore.release()
    return taken


def test_each_instance_gets_as_many_slots_as_its_limit() -> None:
    limits = Limits()
    assert _free_slots(limits, 1, 2) == 2
    assert _free_slots(limits, 2, 5) == 5
    assert limits.of(1, 2) is limits.of(1, 2)  # shared by every page of the process


def test_a_changed_limit_applies_without_a_restart() -> None:
    limits = Limits()
    held = limits.of(1, 2)
    held.acquire()
    assert _free_slots(limits, 1, 4) == 4


def test_a_limit_below_one_still_lets_one_fetch_through() -> None:
    assert _free_slots(Limits(), 1, 0) == 1
