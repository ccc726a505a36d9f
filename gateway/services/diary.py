"""Read children's diaries: every child x section at once, cached, and stale-safe.

A section is served from its snapshot while the snapshot is fresh; otherwise it is
fetched. When the backend fails, the last good snapshot is served, labelled with its
time, and never passed off as fresh.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import threading
import time
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import codec
from connectors.base import sections_of
from connectors.errors import ConnectorError
from connectors.schema import Period
from connectors.schema import Section
from gateway.lru import Lru
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.models import SectionSnapshot
from gateway.services import health
from gateway.services import snapshots
from gateway.services.backend import open_session
from gateway.services.backend import seal_session
from gateway.services.fetching import Access
from gateway.services.fetching import Job
from gateway.services.fetching import Limits
from gateway.services.fetching import RelinkRequired
from gateway.services.fetching import run_all
from gateway.services.instances import ConnectorPool
from gateway.services.instances import UnknownConnector
from gateway.services.vault import Vault

log = logging.getLogger(__name__)
SCHOOL_MONTH_DAYS = 30


def last_school_month(today: dt.date) -> Period:
    """Return the default period of a child's page: the thirty days up to today."""
    return Period(start=today - dt.timedelta(days=SCHOOL_MONTH_DAYS - 1), end=today)


def family_window(today: dt.date) -> Period:
    """Return the family page's period: the last seven days and the next two weeks."""
    return Period(start=today - dt.timedelta(days=7), end=today + dt.timedelta(days=14))


class State(enum.StrEnum):
    """How much a section's data can be trusted right now."""

    FRESH = "fresh"
    REVALIDATING = "revalidating"  # cached, a little old, being refreshed in the background
    STALE = "stale"
    UNAVAILABLE = "unavailable"
    UNSUPPORTED = "unsupported"
    RELINK = "relink"


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionView:
    """One section of one child's diary, with how current it is."""

    section: Section
    state: State
    records: list[t.Any]
    as_of: dt.datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildDiary:
    """The sections of one child's diary for a period."""

    link: ChildLink
    period: Period
    sections: dict[Section, SectionView]

    def records(self, section: Section) -> list[t.Any]:
        """Return a section's records (empty when it has none or is not provided)."""
        view = self.sections.get(section)
        return view.records if view else []


@dataclass(frozen=True, slots=True)
class Runtime:
    """The long-lived pieces the diary service runs on, shared by every request."""

    executor: ThreadPoolExecutor
    limits: Limits
    fresh_for: dt.timedelta
    deadline: float
    decoded: DecodedRecords = field(default_factory=lambda: DecodedRecords())
    # Serve snapshots up to this old at once and refresh them behind the page (None: never).
    revalidate_within: dt.timedelta | None = None
    revalidate: Callable[[list[int], list[Section], Period], None] | None = None


class DecodedRecords:
    """Snapshots already turned back into records, by snapshot and fetch time.

    Decoding is most of a warm page's work; records are frozen, so one decoded copy can
    serve every request until the snapshot is replaced (its fetch time changes).
    """

    def __init__(self, capacity: int = 1024) -> None:
        """Keep at most ``capacity`` decoded snapshots, least recently used out first."""
        self._decoded: Lru[list[t.Any]] = Lru(capacity)

    def of(self, section: Section, snapshot: SectionSnapshot) -> list[t.Any]:
        """Return the snapshot's records, decoding them only the first time."""
        key = (snapshot.id, _aware(snapshot.fetched_at).isoformat())
        return self._decoded.get_or_make(key, lambda: codec.decode(section, snapshot.payload))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class DiaryService:
    """Read sections of children's diaries for the pages."""

    def __init__(
        self,
        session: Session,
        *,
        pool: ConnectorPool,
        vault: Vault,
        runtime: Runtime,
        now: Callable[[], dt.datetime],
    ) -> None:
        """Read through these connectors, opening stored access with this vault."""
        self._session = session
        self._pool = pool
        self._vault = vault
        self._runtime = runtime
        self._now = now
        self._to_revalidate: set[tuple[int, Section]] = set()

    def read(
        self,
        links: Sequence[ChildLink],
        sections: Sequence[Section],
        period: Period,
        *,
        refresh: bool = False,
        only: Mapping[int, frozenset[Section]] | None = None,
    ) -> list[ChildDiary]:
        """Return each child's sections, fetching what is not fresh, all at once.

        ``only`` narrows some children to the sections a trusted person was granted; the
        other sections are neither fetched nor returned.
        """
        only = only or {}

        def wanted(link: ChildLink) -> list[Section]:
            allowed = only.get(link.id)
            return [s for s in sections if allowed is None or s in allowed]

        snapshots = self._snapshots(links, period)
        views: dict[tuple[int, Section], SectionView] = {}
        accesses: dict[int, Access] = {}
        jobs: list[Job] = []
        for link in links:
            offered = self._offered(link)
            for section in wanted(link):
                key = (link.id, section)
                snapshot = snapshots.get(key)
                ready = self._without_fetch(link, section, snapshot, offered, refresh=refresh)
                if ready is not None:
                    views[key] = ready
                    continue
                access = accesses.get(link.credential_id or 0) or self._access(link)
                accesses[link.credential_id or 0] = access
                limit = self._runtime.limits.of(link.instance_id, link.instance.concurrency_limit)
                jobs.append(Job(key, access, limit, link.external_id, section, period))
        started = time.monotonic()
        outcome = run_all(self._runtime.executor, jobs, deadline=self._runtime.deadline)
        instance_of = {link.id: link.instance_id for link in links}
        health.record(
            self._session, instance_of, outcome, seconds=time.monotonic() - started, now=self._now()
        )
        # Sorted, so that concurrent pages lock the snapshot rows they share in one order.
        for job in sorted(jobs, key=lambda job: t.cast(tuple[int, Section], job.key)):
            result = outcome[job.key]
            link_id, section = t.cast(tuple[int, Section], job.key)
            views[job.key] = self._settle(link_id, section, period, result, snapshots.get(job.key))
        self._keep_sessions(accesses)
        self._session.flush()
        if self._to_revalidate and self._runtime.revalidate is not None:
            self._runtime.revalidate(
                sorted({link_id for link_id, _ in self._to_revalidate}),
                sorted({section for _, section in self._to_revalidate}),
                period,
            )
            self._to_revalidate.clear()
        return [
            ChildDiary(
                link=link,
                period=period,
                sections={s: views[(link.id, s)] for s in wanted(link)},
            )
            for link in links
        ]

    def _without_fetch(
        self,
        link: ChildLink,
        section: Section,
        snapshot: SectionSnapshot | None,
        offered: frozenset[Section] | None,
        *,
        refresh: bool,
    ) -> SectionView | None:
        """Answer from what is known when no fetch is needed or possible.

        ``offered`` is what the child's connector provides; None when it is not installed.
        """
        if offered is None:
            return self._fallback(section, snapshot, State.UNAVAILABLE)
        if section not in offered:
            return SectionView(section=section, state=State.UNSUPPORTED, records=[])
        if link.status is LinkStatus.RELINK_REQUIRED or link.credential_id is None:
            return self._fallback(section, snapshot, State.RELINK)
        if not link.instance.enabled:
            return self._fallback(section, snapshot, State.UNAVAILABLE)
        if snapshot is None or refresh:
            return None
        age = self._now() - _aware(snapshot.fetched_at)
        if age <= self._runtime.fresh_for:
            return self._from_snapshot(section, snapshot, State.FRESH)
        window = self._runtime.revalidate_within
        if window is not None and self._runtime.revalidate is not None and age <= window:
            self._to_revalidate.add((link.id, section))
            return self._from_snapshot(section, snapshot, State.REVALIDATING)
        return None

    def _offered(self, link: ChildLink) -> frozenset[Section] | None:
        try:
            return sections_of(self._pool.for_instance(link.instance))
        except UnknownConnector:
            return None

    def _access(self, link: ChildLink) -> Access:
        credential = link.credential
        assert credential is not None
        stored = (
            open_session(self._vault, credential.backend_session)
            if credential.backend_session
            else None
        )
        return Access(
            self._pool.for_instance(link.instance),
            self._vault.open_credentials(credential.secret),
            stored,
            now=self._now,
        )

    def _settle(
        self,
        link_id: int,
        section: Section,
        period: Period,
        result: list[t.Any] | Exception,
        snapshot: SectionSnapshot | None,
    ) -> SectionView:
        """Store a fetched section, or fall back to its snapshot when the fetch failed."""
        if isinstance(result, RelinkRequired):
            return self._fallback(section, snapshot, State.RELINK)
        if isinstance(result, Exception):
            if isinstance(result, ConnectorError):
                log.warning(
                    "%s of child %s unavailable: %s", section, link_id, type(result).__name__
                )
            else:
                log.error("%s of child %s failed", section, link_id, exc_info=result)
            return self._fallback(section, snapshot, State.UNAVAILABLE)
        now = self._now()
        snapshots.store(
            self._session,
            link_id=link_id,
            section=section,
            period=period,
            payload=codec.encode(result),
            fetched_at=now,
        )
        return SectionView(section=section, state=State.FRESH, records=result, as_of=now)

    def _fallback(
        self, section: Section, snapshot: SectionSnapshot | None, state: State
    ) -> SectionView:
        if snapshot is None:
            return SectionView(section=section, state=state, records=[])
        view = self._from_snapshot(section, snapshot, State.STALE)
        return SectionView(section=section, state=state, records=view.records, as_of=view.as_of)

    def _from_snapshot(
        self, section: Section, snapshot: SectionSnapshot, state: State
    ) -> SectionView:
        return SectionView(
            section=section,
            state=state,
            records=self._runtime.decoded.of(section, snapshot),
            as_of=_aware(snapshot.fetched_at),
        )

    def _snapshots(
        self, links: Sequence[ChildLink], period: Period
    ) -> dict[tuple[int, Section], SectionSnapshot]:
        if not links:
            return {}
        rows = self._session.scalars(
            select(SectionSnapshot).where(
                SectionSnapshot.link_id.in_([link.id for link in links]),
                SectionSnapshot.period_start == period.start,
                SectionSnapshot.period_end == period.end,
            )
        )
        return {(row.link_id, Section(row.section)): row for row in rows}

    def _keep_sessions(self, accesses: dict[int, Access]) -> None:
        """Store renewed backend sessions; mark links whose access the school refused."""
        for credential_id, access in accesses.items():
            links = list(
                self._session.scalars(
                    select(ChildLink).where(ChildLink.credential_id == credential_id)
                )
            )
            if access.refused:
                for link in links:
                    link.status = LinkStatus.RELINK_REQUIRED
            elif access.renewed and access.session is not None and links:
                credential = links[0].credential
                assert credential is not None
                credential.backend_session = seal_session(self._vault, access.session)


class Revalidator:
    """Refresh snapshots behind the page, once per set of children, sections and period.

    ``refresh`` does the work in its own database session; it runs on a small pool of its
    own, never on the fetch pool it waits on.
    """

    def __init__(
        self,
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
