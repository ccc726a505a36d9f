"""Fetch every child x section at once, within per-backend limits and a deadline.

Worker threads only talk to backends: they never touch the database. Each stored
credential gets one :class:`Access` that all its fetches share, so an expired backend
session is renewed once, not once per section.

Each fetch passes its instance's :class:`Gate`: a semaphore per process, so one slow backend
cannot take every worker of the fetch pool, and, with the shared budget, a look at the
instance's circuit and pause first, so a fetch fails at once rather than sign in to a backend
that is left alone. The budget itself counts every request and reads every answer at the HTTP
layer (:mod:`gateway.services.budget`); the gate adds what only a connector can tell, a
throttling said in a body (Dnevnik.ru's ``requestLimit``), by pausing the instance.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
from dataclasses import dataclass
from types import TracebackType

from connectors.base import BackendSession
from connectors.base import Connector
from connectors.base import Credentials
from connectors.base import RefreshesSession
from connectors.base import fetch_of
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SecondFactorRequired
from connectors.errors import SessionExpired
from connectors.reuse import Reads
from connectors.reuse import sharing
from connectors.schema import Period
from connectors.schema import Section
from connectors.schema import Student
from gateway.services.budget import Budget
from gateway.services.budget import OverBudget

log = logging.getLogger(__name__)


class RelinkRequired(Exception):
    """The school refuses the stored access; only the parent can restore it."""


class Access:
    """One stored credential's live backend session, shared by the threads that use it."""

    def __init__(
        self,
        connector: Connector,
        *,
        credentials: Credentials | None,
        session: BackendSession | None,
        now: Callable[[], dt.datetime],
    ) -> None:
        """Start from the stored session (None when there is none)."""
        self.connector = connector
        self._credentials = credentials
        self.session = session
        self.renewed = False
        self.refused = False
        # What the backend says of the login's children at each fresh sign-in (None: unread).
        self.students: list[Student] | None = None
        # The requests its fetches send, so that sections served by one answer ask once.
        self.reads = Reads()
        self._now = now
        self._lock = threading.Lock()

    def current(self) -> BackendSession:
        """Return a session that has not expired, renewing it first when needed."""
        with self._lock:
            if self.session is None or self.session.expired(self._now()):
                self._renew(self.session)
            assert self.session is not None
            return self.session

    def after_expiry(self, used: BackendSession) -> BackendSession:
        """Renew a session the backend called expired, unless another thread already did."""
        with self._lock:
            if self.session is used:
                self._renew(used)
            assert self.session is not None
            return self.session

    def _renew(self, previous: BackendSession | None) -> None:
        if self.refused:
            raise RelinkRequired
        fresh = None
        if previous is not None and isinstance(self.connector, RefreshesSession):
            try:
                fresh = self.connector.refresh(previous)
            except (InvalidCredentials, SessionExpired):
                fresh = None
        if fresh is None:
            fresh = self._login(previous)
        self.session, self.renewed = fresh, True
        self.students = self._students(fresh)

    def _students(self, session: BackendSession) -> list[Student] | None:
        """Read the children again: a new school year brings a new class, a move a new school."""
        try:
            return self.connector.students(session)
        except ConnectorError as err:
            # The names are a nicety beside the diary the parent asked for; they wait.
            log.warning("children's details not refreshed: %s", type(err).__name__)
            return None

    def _login(self, previous: BackendSession | None) -> BackendSession:
        if self._credentials is None:  # granted on the backend's own page
            self.refused = True
            raise RelinkRequired
        try:
            return self.connector.login(self._credentials, previous=previous)
        except (InvalidCredentials, SecondFactorRequired) as err:
            self.refused = True
            raise RelinkRequired from err


@dataclass(frozen=True, slots=True)
class Job:
    """Fetch one section of one child's diary for a period."""

    key: t.Hashable
    access: Access
    limit: Gate
    student_id: str
    section: Section
    period: Period


def run_job(job: Job) -> list[t.Any]:
    """Fetch a section, renewing an expired backend session exactly once."""
    fetch = fetch_of(job.access.connector, job.section)
    with job.limit, sharing(job.access.reads):
        session = job.access.current()
        try:
            return list(fetch(session, job.student_id, job.period))
        except SessionExpired:
            return list(fetch(job.access.after_expiry(session), job.student_id, job.period))


class Gate:
    """Let a fetch at one backend instance start, within its limits, and note how it ended."""

    def __init__(
        self, instance_id: int, semaphore: threading.Semaphore, budget: Budget | None
    ) -> None:
        """Hold ``semaphore`` during each fetch; consult ``budget`` when there is one."""
        self._instance_id = instance_id
        self._semaphore = semaphore
        self._budget = budget

    def acquire(self, blocking: bool = True) -> bool:
        """Take one of this process's slots (``blocking``: wait for one)."""
        return self._semaphore.acquire(blocking)

    def release(self) -> None:
        """Give a slot back."""
        self._semaphore.release()

    def __enter__(self) -> Gate:
        """Fail at once when the instance is paused or its circuit open, else take a slot.

        :raise OverBudget: the instance is paused.
        :raise CircuitOpen: its circuit is open, or being probed.
        """
        if self._budget is not None:
            self._budget.check(self._instance_id)
        self._semaphore.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Give the slot back; a backend's own throttling pauses the instance everywhere."""
        self._semaphore.release()
        # OverBudget is the gateway's own refusal: pausing on it would feed on itself.
        throttled = isinstance(error, RateLimited) and not isinstance(error, OverBudget)
        if self._budget is not None and throttled:
            self._budget.pause(self._instance_id, t.cast(RateLimited, error).retry_after)


class Limits:
    """One gate per backend instance, so no backend gets more than its share."""

    def __init__(self, *, budget: Budget | None = None) -> None:
        """Start with no backends known; ``budget`` is the pool's, shared by every process."""
        self._gates: dict[tuple[int, int], Gate] = {}
        self._budget = budget
        self._lock = threading.Lock()

    def of(self, instance_id: int, limit: int) -> Gate:
        """Return the gate of a backend instance (a new semaphore when its limit changed)."""
        with self._lock:
            key = (instance_id, limit)
            if key not in self._gates:
                semaphore = threading.BoundedSemaphore(max(1, limit))
                self._gates[key] = Gate(instance_id, semaphore, self._budget)
            return self._gates[key]


def run_all(
    jobs: Sequence[Job], *, executor: ThreadPoolExecutor, deadline: float
) -> Mapping[t.Hashable, list[t.Any] | Exception]:
    """Run jobs concurrently; each gets its records, or the exception it ended with."""
    futures: dict[Future[list[t.Any]], Job] = {executor.submit(run_job, job): job for job in jobs}
    done, _ = wait(futures, timeout=deadline)
    outcome: dict[t.Hashable, list[t.Any] | Exception] = {}
    for future, job in futures.items():
        if future not in done:
            outcome[job.key] = BackendUnavailable("no answer before the page deadline")
        elif (error := future.exception()) is not None:
            outcome[job.key] = t.cast(Exception, error)
        else:
            outcome[job.key] = future.result()
    return outcome
