"""Read children's diaries: every child x section at once, cached, and stale-safe.

A section is served from its snapshot while the snapshot is fresh; otherwise it is
fetched. When the backend fails, the last good snapshot is served, labelled with its
time, and never passed off as fresh.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import time
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import codec
from connectors.base import lesson_changes_of
from connectors.base import sections_of
from connectors.errors import ConnectorError
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Section
from gateway.lru import Lru
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.models import SectionSnapshot
from gateway.services import due
from gateway.services import health
from gateway.services import records
from gateway.services.fetching import Access
from gateway.services.fetching import Job
from gateway.services.fetching import Limits
from gateway.services.fetching import RelinkRequired
from gateway.services.fetching import run_all
from gateway.services.instances import ConnectorPool
from gateway.services.instances import UnknownConnector
from gateway.services.linking import describe_all
from gateway.services.records import Slot
from gateway.services.snapshots import DecodedRecords
from gateway.services.snapshots import aware
from gateway.services.snapshots import snapshots_for
from gateway.services.snapshots import store as store_snapshot
from gateway.services.timetable import SlotChange
from gateway.services.timetable import slot_changes
from gateway.services.timetable import with_detected_changes
from gateway.services.vault import Vault

log = logging.getLogger(__name__)
# What a read asks for: one period for every section, or each section's own.
Periods = Period | Mapping[Section, Period]


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
class Backend:
    """Which timetable changes a child's school system reports."""

    lesson_changes: frozenset[LessonStatus]

    @property
    def reports_changes(self) -> bool:
        """Tell whether replaced or cancelled lessons are marked as such."""
        return bool(self.lesson_changes & {LessonStatus.REPLACED, LessonStatus.CANCELLED})


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildDiary:
    """The sections of one child's diary for a period (the span of the sections' own).

    ``backend`` is None when the child's connector is not installed.
    """

    link: ChildLink
    period: Period
    sections: dict[Section, SectionView]
    backend: Backend | None = None

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
    # The timetable changes the sync saw, per child, period and timetable read.
    slot_changes: Lru[dict[Slot, SlotChange]] = field(default_factory=lambda: Lru(1024))
    # Serve snapshots up to this old at once and refresh them behind the page (None: never).
    revalidate_within: dt.timedelta | None = None
    revalidate: Callable[[list[int], list[Section], Period], None] | None = None
    # A parent's «Обновить сейчас» within this long of the last fetch only says so.
    debounce: dt.timedelta = dt.timedelta(seconds=60)
    # Sections the background sync read, and whose rows were claimed within this long of
    # falling due, are served from their snapshot however old (None: pages always fetch).
    kept_by_sync_within: dt.timedelta | None = None


def backend_of(link: ChildLink, *, pool: ConnectorPool) -> Backend | None:
    """Describe a child's school system; None when its connector is not installed."""
    try:
        cls = pool.connector_class(link.instance.connector)
    except UnknownConnector:
        return None
    return Backend(lesson_changes=lesson_changes_of(cls))


def _periods_of(period: Periods, sections: Sequence[Section]) -> dict[Section, Period]:
    if isinstance(period, Period):
        return {section: period for section in sections}
    return {section: period[section] for section in sections}


@dataclass(frozen=True, slots=True, kw_only=True)
class Refreshed:
    """What a parent's «Обновить сейчас» did."""

    done: bool  # False: everything had been fetched moments ago, nothing was asked
    as_of: dt.datetime  # when the data shown now was fetched (the oldest part)
    failed: State | None = None  # UNAVAILABLE or RELINK when some section was not fetched
    # What was fetched, by section: the period asked and the records the system gave.
    fetched: Mapping[Section, tuple[Period, list[t.Any]]] = field(default_factory=dict)


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
        self._to_hurry: set[tuple[int, Section]] = set()
        self._kept: set[tuple[int, Section]] = set()
        self._instance_ids: list[int] = []
        self._failures: dict[tuple[int, Section], dt.datetime] | None = None
        self._unstored: frozenset[Section] = frozenset()

    def read(
        self,
        links: Sequence[ChildLink],
        sections: Sequence[Section],
        period: Periods,
        *,
        refresh: bool = False,
        only: Mapping[int, frozenset[Section]] | None = None,
        mark_changes: bool = True,
        merged_by_caller: frozenset[Section] = frozenset(),
    ) -> list[ChildDiary]:
        """Return each child's sections, fetching what is not fresh, all at once.

        ``period`` is one period for every section, or each section's own. ``only``
        narrows some children to the sections a trusted person was granted; the other
        sections are neither fetched nor returned. ``mark_changes`` marks the timetable
        changes the gateway saw itself on a system that does not mark them (the sync, which
        records what the system said, reads without). What is fetched of the sections in
        ``merged_by_caller`` is not stored as their period's snapshot: the sync reads a few
        days of them and merges those into the snapshot the pages read.
        """
        only = only or {}
        period_of = _periods_of(period, sections)
        self._instance_ids = sorted({link.instance_id for link in links})
        self._failures = None
        self._unstored = merged_by_caller

        def wanted(link: ChildLink) -> list[Section]:
            allowed = only.get(link.id)
            return [s for s in sections if allowed is None or s in allowed]

        snapshots = snapshots_for(self._session, links, period_of)
        self._kept = self._kept_by_sync(links, snapshots, refresh=refresh)
        views: dict[tuple[int, Section], SectionView] = {}
        accesses: dict[int, Access] = {}
        jobs = [
            self._job(link, section, period_of[section], accesses)
            for link in links
            for section in self._to_fetch(link, wanted(link), snapshots, views, refresh=refresh)
        ]
        self._fetch(links, jobs, views, snapshots, period_of)
        self._keep_sessions(accesses)
        self._session.flush()
        self._start_revalidation(period_of)
        self._hurry_sync()
        span = Period(
            start=min(p.start for p in period_of.values()),
            end=max(p.end for p in period_of.values()),
        )
        diaries = [
            ChildDiary(
                link=link,
                period=span,
                sections={s: views[(link.id, s)] for s in wanted(link)},
                backend=backend_of(link, pool=self._pool),
            )
            for link in links
        ]
        if mark_changes:
            for diary in diaries:
                self._mark_changes(diary, period_of)
        return diaries

    def _mark_changes(self, diary: ChildDiary, period_of: Mapping[Section, Period]) -> None:
        """Mark the timetable changes the sync saw, where the system marks none itself."""
        view = diary.sections.get(Section.SCHEDULE)
        if view is None or diary.backend is None or diary.backend.reports_changes:
            return
        window = period_of[Section.SCHEDULE]
        # Changes are recorded with the timetable they came from: until it is read again
        # (its time changes), the slots' changes stay what they were.
        key = (diary.link.id, window.start, window.end, view.as_of)
        changes = self._runtime.slot_changes.get_or_make(
            key,
            lambda: slot_changes(
                records.lesson_changes(self._session, link_id=diary.link.id, window=window)
            ),
        )
        if changes:
            today = self._now().astimezone(ZoneInfo(diary.link.instance.timezone)).date()
            diary.sections[Section.SCHEDULE] = dataclasses.replace(
                view, records=with_detected_changes(view.records, changes, today=today)
            )

    def _to_fetch(
        self,
        link: ChildLink,
        sections: Sequence[Section],
        snapshots: Mapping[tuple[int, Section], SectionSnapshot],
        views: dict[tuple[int, Section], SectionView],
        *,
        refresh: bool,
    ) -> list[Section]:
        """Answer what needs no fetch into ``views``; return the sections left to fetch."""
        offered = self._offered(link)
        left = []
        for section in sections:
            key = (link.id, section)
            ready = self._without_fetch(link, section, snapshots.get(key), offered, refresh=refresh)
            if ready is None:
                left.append(section)
            else:
                views[key] = ready
        return left

    def _job(
        self, link: ChildLink, section: Section, period: Period, accesses: dict[int, Access]
    ) -> Job:
        """Plan one fetch; a stored credential's fetches share one backend access."""
        access = accesses.get(link.credential_id or 0) or self._access(link)
        accesses[link.credential_id or 0] = access
        limit = self._runtime.limits.of(link.instance_id, link.instance.concurrency_limit)
        return Job((link.id, section), access, limit, link.external_id, section, period)

    def refresh_now(
        self,
        link: ChildLink,
        sections: Sequence[Section],
        period: Periods,
        *,
        only: frozenset[Section] | None = None,
    ) -> Refreshed:
        """Refetch a child's sections now, unless they were all fetched moments ago.

        ``only`` narrows it to a trusted person's sections, as in :meth:`read`.
        """
        period_of = _periods_of(period, sections)
        wanted = [s for s in sections if only is None or s in only]
        # A section the backend does not provide never has a snapshot; it cannot be stale.
        kept = [s for s in wanted if s in (self._offered(link) or frozenset())]
        snapshots = snapshots_for(self._session, [link], period_of)
        fetched = [
            aware(snapshots[(link.id, s)].fetched_at) for s in kept if (link.id, s) in snapshots
        ]
        oldest = min(fetched, default=None)
        if oldest is not None and len(fetched) == len(kept):
            if self._now() - oldest < self._runtime.debounce:
                return Refreshed(done=False, as_of=oldest)
        [diary] = self.read(
            [link],
            sections,
            period_of,
            refresh=True,
            only={link.id: frozenset(wanted)},
            mark_changes=False,
        )
        states = {view.state for view in diary.sections.values()}
        failed = next((s for s in (State.RELINK, State.UNAVAILABLE) if s in states), None)
        times = [view.as_of for view in diary.sections.values() if view.as_of is not None]
        got = {
            section: (period_of[section], view.records)
            for section, view in diary.sections.items()
            if view.state is State.FRESH
        }
        return Refreshed(
            done=True, as_of=min(times, default=self._now()), failed=failed, fetched=got
        )

    def _fetch(
        self,
        links: Sequence[ChildLink],
        jobs: list[Job],
        views: dict[tuple[int, Section], SectionView],
        snapshots: dict[tuple[int, Section], SectionSnapshot],
        period_of: Mapping[Section, Period],
    ) -> None:
        """Run the fetches, record how the backends did, and settle each section."""
        started, asked_at = time.monotonic(), self._now()
        outcome = run_all(jobs, executor=self._runtime.executor, deadline=self._runtime.deadline)
        instance_of = {link.id: link.instance_id for link in links}
        health.record(
            self._session, instance_of, outcome, seconds=time.monotonic() - started, now=self._now()
        )
        # Sorted, so that concurrent pages lock the snapshot rows they share in one order.
        for job in sorted(jobs, key=lambda job: t.cast(tuple[int, Section], job.key)):
            key = t.cast(tuple[int, Section], job.key)
            link_id, section = key
            views[key] = self._settle(
                link_id,
                section,
                period_of[section],
                outcome[job.key],
                snapshots.get(key),
                asked_at=asked_at,
            )

    def _start_revalidation(self, period_of: Mapping[Section, Period]) -> None:
        """Refresh the slightly old sections behind the page, one refresh per period."""
        if not self._to_revalidate or self._runtime.revalidate is None:
            return
        by_period: dict[Period, list[tuple[int, Section]]] = {}
        for key in self._to_revalidate:
            by_period.setdefault(period_of[key[1]], []).append(key)
        for period, keys in by_period.items():
            self._runtime.revalidate(
                sorted({link_id for link_id, _ in keys}),
                sorted({section for _, section in keys}),
                period,
            )
        self._to_revalidate.clear()

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
        fetched_at = aware(snapshot.fetched_at)
        age = self._now() - fetched_at
        # A refresh of this very data failed (the parent's «Обновить сейчас», or one behind
        # the page): the system is down, even while the data is only minutes old.
        failed = snapshot.failed_at is not None and aware(snapshot.failed_at) >= fetched_at
        if age <= self._runtime.fresh_for:
            return self._from_snapshot(
                section, snapshot, State.UNAVAILABLE if failed else State.FRESH
            )
        if (link.id, section) in self._kept:
            # The background sync keeps this section: the page shows what it stored, and a
            # family that is looking moves to the front of its line.
            self._to_hurry.add((link.id, section))
            return self._from_snapshot(
                section, snapshot, State.UNAVAILABLE if failed else State.REVALIDATING
            )
        window = self._runtime.revalidate_within
        if window is not None and self._runtime.revalidate is not None and age <= window:
            self._to_revalidate.add((link.id, section))
            # Or another page's refresh of this section failed since.
            failed_at = None if failed else self._failing(window).get((link.instance_id, section))
            failed = failed or (failed_at is not None and failed_at >= fetched_at)
            return self._from_snapshot(
                section, snapshot, State.UNAVAILABLE if failed else State.REVALIDATING
            )
        return None

    def _kept_by_sync(
        self,
        links: Sequence[ChildLink],
        snapshots: Mapping[tuple[int, Section], SectionSnapshot],
        *,
        refresh: bool,
    ) -> set[tuple[int, Section]]:
        """Return the sections the background sync keeps current (asked only when it helps).

        A snapshot older than ``fresh_for`` is then served as it is, not fetched while the
        parent waits; when the sync is not running (its rows wait unclaimed) the pages fetch.
        """
        kept_for = self._runtime.kept_by_sync_within
        if refresh or kept_for is None:
            return set()
        old = self._now() - self._runtime.fresh_for
        if not any(aware(s.fetched_at) < old for s in snapshots.values()):
            return set()
        return due.kept(
            self._session, [link.id for link in links], now=self._now(), within=kept_for
        )

    def _hurry_sync(self) -> None:
        """Move the old sections of the children being looked at first in the sync's line."""
        by_link: dict[int, list[Section]] = {}
        for link_id, section in sorted(self._to_hurry):
            by_link.setdefault(link_id, []).append(section)
        for link_id, sections in by_link.items():
            due.hurry(
                self._session,
                link_id,
                sections,
                now=self._now(),
                debounce=self._runtime.debounce,
            )
        self._to_hurry.clear()

    def _failing(self, window: dt.timedelta) -> dict[tuple[int, Section], dt.datetime]:
        """Return the backends' failing sections, asked once per read and only if needed."""
        if self._failures is None:
            self._failures = health.failing(
                self._session, self._instance_ids, since=self._now() - window
            )
        return self._failures

    def _offered(self, link: ChildLink) -> frozenset[Section] | None:
        try:
            return sections_of(self._pool.for_instance(link.instance))
        except UnknownConnector:
            return None

    def _access(self, link: ChildLink) -> Access:
        credential = link.credential
        assert credential is not None
        stored = (
            self._vault.open_session(credential.backend_session)
            if credential.backend_session
            else None
        )
        return Access(
            self._pool.for_instance(link.instance),
            credentials=self._vault.open_credentials(credential.secret),
            session=stored,
            now=self._now,
        )

    def _settle(
        self,
        link_id: int,
        section: Section,
        period: Period,
        result: list[t.Any] | Exception,
        snapshot: SectionSnapshot | None,
        *,
        asked_at: dt.datetime,
    ) -> SectionView:
        """Store a fetched section, or fall back to its snapshot when the fetch failed.

        The data is as of ``asked_at``, when the backend was asked: a slow fetch that ends
        after a quicker, later one must not pass its older data off as the newer.
        """
        if isinstance(result, RelinkRequired):
            return self._fallback(section, snapshot, State.RELINK)
        if isinstance(result, Exception):
            if isinstance(result, ConnectorError):
                log.warning(
                    "%s of child %s unavailable: %s", section, link_id, type(result).__name__
                )
            else:
                log.error("%s of child %s failed", section, link_id, exc_info=result)
            if snapshot is not None:
                snapshot.failed_at = asked_at
            return self._fallback(section, snapshot, State.UNAVAILABLE)
        if section not in self._unstored:
            store_snapshot(
                self._session,
                link_id=link_id,
                section=section,
                period=period,
                payload=codec.encode(result),
                fetched_at=asked_at,
            )
        return SectionView(section=section, state=State.FRESH, records=result, as_of=asked_at)

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
            as_of=aware(snapshot.fetched_at),
        )

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
                credential.backend_session = self._vault.seal_session(access.session)
                if access.students is not None:
                    describe_all(links, access.students)
