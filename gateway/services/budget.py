"""Each backend's budget, held by every process that talks to it: gunicorn and Celery alike.

Every HTTP request to an instance's backend (sign-ins included) passes :meth:`Budget.admit`
first, through the adapter :func:`gateway.services.instances.limited_session` mounts:

- **Requests per minute**: a sliding log of the permits taken in the last 60 seconds. A
  fixed window would let ``2 × requests_per_minute`` through around a minute's boundary, and a
  backend counting its own sliding minute would answer 429; the log never exceeds the
  figure in any 60 seconds, for at most ``requests_per_minute`` timestamps per instance.
- **Concurrency**: leases that expire (``Policy.lease_for``, longer than any request's
  timeout), so a killed process's slots come back by themselves.
- **Pause**: a 429 (or 503) with ``Retry-After`` pauses the instance for every process;
  requests meanwhile fail at once with :class:`OverBudget` and the time left.
- **Circuit breaker**: ``failures_to_open`` consecutive failures (a transport error or a 5xx)
  open the circuit for ``cool_down`` seconds, during which requests fail at once with
  :class:`CircuitOpen`; then one probe goes through (half-open), and its success closes it.

A request waits for a slot or a permit up to ``Policy.max_wait`` and then fails with
:class:`OverBudget`, so a page shows its last data instead of hanging; one whose next permit
is further away than that fails at once. The state lives in a :class:`Store`: Redis (one Lua
script per step) or, with no server configured, a SQLite file (one ``BEGIN IMMEDIATE``
transaction per step), shared by the processes of one machine. Times are the injected
clock's, as seconds since the epoch: the machines of a deployment keep NTP time.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import redis
import requests
from requests.adapters import BaseAdapter

from connectors.clock import Clock
from connectors.clock import retry_after
from connectors.clock import utcnow
from connectors.errors import BackendUnavailable
from connectors.errors import RateLimited
from gateway.services.budget_stores import Allowance
from gateway.services.budget_stores import Decision
from gateway.services.budget_stores import Outcome
from gateway.services.budget_stores import Policy
from gateway.services.budget_stores import RedisStore
from gateway.services.budget_stores import SqliteStore
from gateway.services.budget_stores import Status
from gateway.services.budget_stores import Store

__all__ = [
    "Allowance",
    "Budget",
    "BudgetedAdapter",
    "CircuitOpen",
    "BudgetUnavailable",
    "CircuitState",
    "OverBudget",
    "Outcome",
    "Policy",
    "Status",
    "Store",
    "Ticket",
    "budget_from",
]

log = logging.getLogger(__name__)
# What a store raises when it cannot answer: Redis unreachable, a SQLite file locked or gone.
STORE_ERRORS = (redis.RedisError, sqlite3.Error, OSError)

# A permit is held for a little longer than the backend's minute: it is stamped by the
# caller's clock before its request leaves, and a loaded machine sends some a second late,
# so a window of exactly 60 s let a backend count one or two over in its own minute.
WINDOW = 62.0


class CircuitState(enum.StrEnum):
    """Whether an instance is being sent requests (closed), left alone (open) or probed."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class OverBudget(RateLimited):
    """The gateway held a request back: the instance's budget is spent, or it is paused."""


class BudgetUnavailable(BackendUnavailable):
    """The shared budget's store does not answer, so no request can be admitted within it.

    Requests are refused rather than sent unbudgeted: several processes sending blind could
    together exceed what the backend allows. Pages then show the stored data as stale.
    """


class CircuitOpen(BackendUnavailable):
    """The instance's recent requests failed: it is left alone until ``probe_at``."""

    def __init__(self, message: str, *, probe_at: dt.datetime | None) -> None:
        """Keep when the next probe may go."""
        super().__init__(message)
        self.probe_at = probe_at


@dataclass(frozen=True, slots=True)
class Ticket:
    """One admitted request: its lease, and whether it is the half-open circuit's probe."""

    allowance: Allowance
    lease: str
    probe: bool


class Budget:
    """Admit each request to a backend within its instance's shared budget."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        policy: Policy | None = None,
    ) -> None:
        """Keep the budget in ``store``, on the time of ``clock``; ``sleep`` waits."""
        self.store = store
        self.policy = policy or Policy()
        self.clock = clock
        self._sleep = sleep

    def _now(self) -> float:
        return self.clock().timestamp()

    def admit(self, allowance: Allowance) -> Ticket:
        """Wait for a slot and a permit, and return the ticket to :meth:`finish` with.

        :raise OverBudget: paused, or no permit or slot within ``max_wait``.
        :raise CircuitOpen: the circuit is open, or another request is probing it.
        """
        lease = uuid.uuid4().hex
        give_up = self._now() + self.policy.max_wait
        while True:
            now = self._now()
            try:
                decision = self.store.admit(allowance, lease, now=now, policy=self.policy)
            except STORE_ERRORS as err:
                raise BudgetUnavailable("the shared request budget does not answer") from err
            if decision.verdict == "admitted":
                return Ticket(allowance, lease, decision.probe)
            self._refuse_fast(decision, now)
            wake = now + self.policy.poll if decision.until is None else decision.until
            if wake > give_up:
                left = None if decision.until is None else decision.until - now
                raise OverBudget("the backend's request budget is spent", retry_after=left)
            self._sleep(max(wake - now, 0.0))

    def _refuse_fast(self, decision: Decision, now: float) -> None:
        until = decision.until
        if decision.verdict == "paused":
            left = None if until is None else until - now
            raise OverBudget("the backend asked for a pause", retry_after=left)
        if decision.verdict == "open":
            probe_at = None if until is None else _moment(until)
            raise CircuitOpen("the backend failed repeatedly", probe_at=probe_at)

    def finish(self, ticket: Ticket, outcome: Outcome) -> None:
        """Give a request's slot back and count what it said of the backend.

        A store that stopped answering meanwhile loses the count, not the answer: the slot's
        lease runs out on its own.
        """
        try:
            self.store.finish(
                ticket.allowance.instance_id,
                ticket.lease,
                outcome,
                probe=ticket.probe,
                now=self._now(),
                policy=self.policy,
            )
        except STORE_ERRORS as err:
            log.warning("budget store unavailable; a request's outcome was not counted: %s", err)

    def pause(self, instance_id: int, seconds: float | None) -> None:
        """Pause an instance for every process (None: the policy's default pause)."""
        wait = self.policy.default_pause if seconds is None else seconds
        try:
            self.store.pause(instance_id, self._now() + min(max(wait, 0.0), self.policy.max_pause))
        except STORE_ERRORS as err:
            log.warning("budget store unavailable; a backend's pause was not kept: %s", err)

    def reset(self, instance_id: int) -> None:
        """Close an instance's circuit and end its pause now, for every process.

        For whoever knows better than the counts: the developer pages restoring an
        emulator, an operator's successful connection test.
        """
        self.store.reset(instance_id)

    def check(self, instance_id: int) -> None:
        """Fail at once when the instance is paused, open, or being probed.

        :raise OverBudget: paused.
        :raise CircuitOpen: open, or a probe is in flight.
        """
        status, now = self.status(instance_id), self._now()
        if status.paused_until is not None and now < status.paused_until:
            self._refuse_fast(Decision("paused", status.paused_until), now)
        if status.open_until is not None:
            if now < status.open_until:
                self._refuse_fast(Decision("open", status.open_until), now)
            if status.probing_until is not None and now < status.probing_until:
                self._refuse_fast(Decision("open", status.probing_until), now)

    def status(self, instance_id: int) -> Status:
        """Return the instance's stored circuit and pause.

        :raise BudgetUnavailable: the store does not answer.
        """
        try:
            return self.store.status(instance_id)
        except STORE_ERRORS as err:
            raise BudgetUnavailable("the shared request budget does not answer") from err

    def state(self, instance_id: int) -> CircuitState:
        """Return the instance's circuit: half-open once its cool-down is over."""
        status = self.status(instance_id)
        if status.open_until is None:
            return CircuitState.CLOSED
        return CircuitState.OPEN if self._now() < status.open_until else CircuitState.HALF_OPEN

    def probe_at(self, instance_id: int) -> dt.datetime | None:
        """Return when an open circuit lets its next probe through; None when closed."""
        status = self.status(instance_id)
        return None if status.open_until is None else _moment(status.open_until)

    def paused_until(self, instance_id: int) -> dt.datetime | None:
        """Return when the instance's pause ends; None when it is not paused."""
        until = self.status(instance_id).paused_until
        return None if until is None or until <= self._now() else _moment(until)


def _moment(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def budget_from(
    redis_url: str | None,
    *,
    path: Path,
    clock: Clock = utcnow,
    policy: Policy | None = None,
    prefix: str = "diary-gateway:budget:",
) -> Budget:
    """Return the deployment's budget: on Redis when ``redis_url`` is set, else in ``path``.

    ``path`` is a SQLite file (the Flask instance folder's ``budget.sqlite3``) that every
    process of this machine opens; ``prefix`` names the Redis keys.
    """
    if redis_url:
        store: Store = RedisStore(redis.Redis.from_url(redis_url), prefix=prefix, window=WINDOW)
    else:
        store = SqliteStore(path, window=WINDOW)
    return Budget(store, clock=clock, policy=policy)


def judged(response: requests.Response) -> Outcome:
    """Say what a backend's answer tells of its health: a 5xx failed, a 429 says nothing."""
    if response.status_code == 429:
        return Outcome.NEUTRAL
    return Outcome.FAILED if response.status_code >= 500 else Outcome.OK


class BudgetedAdapter(BaseAdapter):
    """Send each request through ``inner`` within the instance's shared budget.

    The body is read inside the lease (unless streamed): its time is the request's, and a
    connection dropped mid-body is the backend failing.
    """

    def __init__(self, inner: BaseAdapter, budget: Budget, allowance: Allowance) -> None:
        """Wrap ``inner``, spending ``allowance`` from ``budget``."""
        super().__init__()
        self._inner = inner
        self._budget = budget
        self._allowance = allowance

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Admit the request, send it, and report what its answer said."""
        ticket = self._budget.admit(self._allowance)
        outcome = Outcome.NEUTRAL
        try:
            response = self._inner.send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
            if not stream:
                _ = response.content
        except requests.RequestException:
            outcome = Outcome.FAILED
            raise
        else:
            outcome = judged(response)
            if response.status_code == 429 or (
                response.status_code == 503 and "Retry-After" in response.headers
            ):
                seconds = retry_after(response, now=self._budget.clock)
                self._budget.pause(self._allowance.instance_id, seconds)
            return response
        finally:
            self._budget.finish(ticket, outcome)

    def close(self) -> None:
        """Close the wrapped adapter's connections."""
        self._inner.close()
