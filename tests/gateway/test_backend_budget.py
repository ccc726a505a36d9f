"""Each backend's budget holds across processes, counted where the requests land: the emulator.

Every test starts processes from a fork server (a fresh interpreter, never a fork of this
threaded one, preloaded so each start is quick). Each builds its own budget on one store,
as gunicorn's and Celery's workers do, and sends requests to the live MESH emulator through
:func:`limited_session`; the emulator counts what reached it. Each test runs on the embedded
SQLite file and on Redis.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import typing as t
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
import requests

from connectors.clock import utcnow
from gateway.services.budget import Allowance
from gateway.services.budget import Budget
from gateway.services.budget import CircuitOpen
from gateway.services.budget import CircuitState
from gateway.services.budget import OverBudget
from gateway.services.budget import Policy
from gateway.services.budget import budget_from
from gateway.services.instances import limited_session
from tests.gateway.services.test_budget import BUDGET_REDIS_URL
from tests.gateway.services.test_budget import redis_client

PROCESSES = multiprocessing.get_context("forkserver")
PROCESSES.set_forkserver_preload([__name__])
INSTANCE = 41


@dataclass(frozen=True)
class Where:
    """One deployment's budget store, as every process of it is told."""

    redis_url: str | None
    path: Path
    prefix: str

    def budget(self, *, offset: float = 0.0, **policy: t.Any) -> Budget:
        """Build this process's budget, on a clock ``offset`` seconds ahead of the wall's."""

        def clock() -> dt.datetime:
            return utcnow() + dt.timedelta(seconds=offset)

        return budget_from(
            self.redis_url, path=self.path, clock=clock, policy=Policy(**policy), prefix=self.prefix
        )


@dataclass(frozen=True)
class Errand:
    """What one process sends: ``count`` GETs of ``url`` within ``allowance``."""

    where: Where
    url: str
    count: int
    concurrency: int = 4
    per_minute: int = 1000
    policy: dict[str, t.Any] = field(default_factory=dict)
    offset: float = 0.0


def run_errand(errand: Errand) -> tuple[int, list[str]]:
    """Send the errand's requests one after another; return the pid and how each ended."""
    budget = errand.where.budget(offset=errand.offset, **errand.policy)
    allowance = Allowance(
        instance_id=INSTANCE, concurrency=errand.concurrency, per_minute=errand.per_minute
    )
    http = limited_session(errand.concurrency, guarded=False, budget=budget, allowance=allowance)
    ended = []
    for _ in range(errand.count):
        try:
            ended.append(str(http.get(errand.url, timeout=(3.05, 10)).status_code))
        except OverBudget:
            ended.append("over budget")
        except CircuitOpen:
            ended.append("circuit open")
    return os.getpid(), ended


def in_processes(errands: list[Errand]) -> list[tuple[int, list[str]]]:
    """Run each errand in a fresh process of its own, all at once."""
    with PROCESSES.Pool(len(errands), maxtasksperchild=1) as pool:
        return pool.map(run_errand, errands, chunksize=1)


def hold_a_slot(where: Where, ready: t.Any) -> None:
    """Take the instance's one slot, say so, and never give it back."""
    where.budget().admit(Allowance(instance_id=INSTANCE, concurrency=1, per_minute=100))
    ready.set()
    signal.pause()


@pytest.fixture(params=["sqlite", "redis"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Where]:
    """Each store: the embedded SQLite file, or Redis under a prefix of this test's own."""
    path = tmp_path / "instance" / "budget.sqlite3"
    prefix = f"test-budget:{uuid.uuid4().hex}:"
    if request.param == "sqlite":
        yield Where(None, path, prefix)
        return
    client = redis_client()
    yield Where(BUDGET_REDIS_URL, path, prefix)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


@pytest.fixture
def mesh(mesh_url: str) -> Iterator[str]:
    """The MESH emulator with its counts zeroed, and no faults left behind."""
    requests.post(f"{mesh_url}/__admin/stats/reset", timeout=5).raise_for_status()
    try:
        yield mesh_url
    finally:
        requests.delete(f"{mesh_url}/__admin/faults", timeout=5).raise_for_status()


def _faults(mesh: str, **faults: t.Any) -> None:
    requests.post(f"{mesh}/__admin/faults", json=faults, timeout=5).raise_for_status()


def _received(mesh: str) -> int:
    return sum(requests.get(f"{mesh}/__admin/stats", timeout=5).json().values())


def test_four_processes_never_send_more_than_the_minutes_budget(where: Where, mesh: str) -> None:
    url = f"{mesh}/api/budget-probe"
    errands = [Errand(where, url, count=8, per_minute=10, policy={"max_wait": 1.0})] * 4
    reports = in_processes(errands)
    assert len({pid for pid, _ in reports}) == 4
    ended = [outcome for _, outcomes in reports for outcome in outcomes]
    assert _received(mesh) == 10
    assert ended.count("over budget") == 22 and ended.count("404") == 10


def test_four_processes_never_have_more_requests_in_flight_than_the_limit(
    where: Where, mesh: str
) -> None:
    _faults(mesh, latency_ms=100)
    url = f"{mesh}/api/budget-probe"
    # Waits long enough that a loaded machine never turns a wait for a slot into a refusal.
    errand = Errand(where, url, count=5, concurrency=2, policy={"max_wait": 60.0})
    reports = in_processes([errand] * 4)
    ended = [outcome for _, outcomes in reports for outcome in outcomes]
    assert ended == ["404"] * 20 and _received(mesh) == 20
    figures = requests.get(f"{mesh}/__admin/concurrency", timeout=5).json()
    assert figures["most_at_once"] == 2  # shared: each process alone would allow two


def test_a_429_with_retry_after_pauses_every_process(where: Where, mesh: str) -> None:
    _faults(mesh, mode="429")  # Retry-After: 30
    url = f"{mesh}/api/budget-probe"
    [(first, throttled)] = in_processes([Errand(where, url, count=1)])
    [(second, refused)] = in_processes([Errand(where, url, count=2)])
    assert first != second
    assert throttled == ["429"] and refused == ["over budget", "over budget"]
    assert _received(mesh) == 1
    paused_until = where.budget().paused_until(INSTANCE)
    assert paused_until is not None and paused_until > utcnow() + dt.timedelta(seconds=20)
    _faults(mesh, mode=None)
    [(_, after)] = in_processes([Errand(where, url, count=1, offset=31)])
    assert after == ["404"]


def test_the_circuit_opens_for_every_process_then_a_probe_closes_it(
    where: Where, mesh: str
) -> None:
    _faults(mesh, mode="5xx")
    url = f"{mesh}/api/budget-probe"
    policy = {"failures_to_open": 3, "cool_down": 30.0}
    [(_, failing)] = in_processes([Errand(where, url, count=4, policy=policy)])
    assert failing == ["503", "503", "503", "circuit open"]
    assert where.budget(**policy).state(INSTANCE) is CircuitState.OPEN
    [(_, refused)] = in_processes([Errand(where, url, count=1, policy=policy)])
    assert refused == ["circuit open"] and _received(mesh) == 3  # failed fast, never sent
    _faults(mesh, mode=None)
    later = where.budget(offset=31, **policy)
    assert later.state(INSTANCE) is CircuitState.HALF_OPEN
    [(_, probed)] = in_processes([Errand(where, url, count=2, policy=policy, offset=31)])
    assert probed == ["404", "404"] and _received(mesh) == 5
    assert later.state(INSTANCE) is CircuitState.CLOSED


def test_a_killed_holders_slot_comes_back_when_its_lease_expires(where: Where) -> None:
    ready = PROCESSES.Event()
    holder = PROCESSES.Process(target=hold_a_slot, args=(where, ready))
    holder.start()
    try:
        assert ready.wait(timeout=60), "the holder never took its slot"
    finally:
        holder.kill()
        holder.join(timeout=10)
    one = Allowance(instance_id=INSTANCE, concurrency=1, per_minute=100)
    with pytest.raises(OverBudget):
        where.budget(max_wait=0.2).admit(one)  # the dead holder's lease still counts
    lease_for = Policy().lease_for
    where.budget(offset=lease_for + 1).admit(one)
