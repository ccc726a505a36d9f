"""The background sync: keep every linked child's diary current without a parent waiting.

A tick (:func:`tick`) enrols children linked since the last one and claims the rows that are
due (:mod:`gateway.services.due`); each claimed child is then read by :meth:`SyncService.run`
on its queue, through the same diary service the pages read with, so what the sync fetches
is exactly what the next page shows and the page asks no backend. The first sync of a child
is its baseline; after it the school year so far is read once, on the backfill queue.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy.orm import Session

from connectors import codec
from connectors.base import sections_of
from connectors.schema import Period
from connectors.schema import Section
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.models import Queue
from gateway.models import SectionSnapshot
from gateway.models import SyncDue
from gateway.services import due
from gateway.services import notify
from gateway.services import outbox
from gateway.services import periods
from gateway.services import records
from gateway.services.cadence import Cadence
from gateway.services.diary import DiaryService
from gateway.services.diary import SectionView
from gateway.services.diary import State
from gateway.services.instances import ConnectorPool
from gateway.services.instances import UnknownConnector
from gateway.services.snapshots import aware
from gateway.services.snapshots import snapshots_for
from gateway.services.snapshots import store as store_snapshot

log = logging.getLogger(__name__)
# A section a child's system stopped offering is looked at again this much later.
UNOFFERED_AGAIN = dt.timedelta(days=1)
DAY = dt.timedelta(days=1)


def _covers(plan: Plan, day: dt.date | None) -> bool:
    """Tell whether a record belongs to a plan's window (a rating has no day)."""
    window = plan.window
    if day is None:
        return plan.undated
    return window is not None and window.start <= day <= window.end


def _overlap(one: Period, other: Period) -> Period:
    return Period(start=max(one.start, other.start), end=min(one.end, other.end))


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What one section's sync asks for, and which of its answer it stores."""

    asked: Period
    # The days compared with the stored records (None: nothing to store).
    window: Period | None
    baseline: bool
    # The pages' snapshot a short read is merged into (None: the read stores its own).
    into: SectionSnapshot | None = None
    # Whether the answer is cut to the window first: a backfill's history, a short read's
    # days (a whole read is stored as the system gave it).
    clipped: bool = False
    # Whether records without a day (a rating, standing for its whole period) are kept then.
    undated: bool = True


def _backfill(section: Section, today: dt.date, current: Period) -> Plan:
    """Read the school year; store the days before the current period, as history."""
    start = periods.school_year_start(today)
    history = current.start - DAY
    window = Period(start=start, end=history) if history >= start else None
    asked = periods.school_year(section, today)
    return Plan(asked=asked, window=window, baseline=True, clipped=True, undated=False)


def _merge(
    session: Session,
    snapshot: SectionSnapshot,
    section: Section,
    window: Period,
    found: Sequence[object],
    *,
    fetched_at: dt.datetime,
) -> None:
    """Put a short read's records in place of the snapshot's records of those days.

    The snapshot is read again first: a page may have stored a newer one during the read.
    A record the answer holds is taken from the answer even when the snapshot had it on a
    day outside the window (homework moved into the coming week).
    """
    session.refresh(snapshot)
    answered = {records.record_key(r) for r in found}
    days = [
        (records.record_day(r), r)
        for r in codec.decode(section, snapshot.payload)
        if records.record_key(r) not in answered
    ]
    before = [r for day, r in days if day is not None and day < window.start]
    after = [r for day, r in days if day is not None and day > window.end]
    store_snapshot(
        session,
        link_id=snapshot.link_id,
        section=section,
        period=Period(start=snapshot.period_start, end=snapshot.period_end),
        payload=codec.encode([*before, *found, *after]),
        fetched_at=fetched_at,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TickSettings:
    """How much one tick takes on."""

    lease_for: dt.timedelta = dt.timedelta(minutes=5)
    batch: int = 100
    # A row left unclaimed this long past its time means the background is not running.
    paused_after: dt.timedelta = dt.timedelta(minutes=10)
    tick: dt.timedelta = dt.timedelta(seconds=15)
    # A claimed child's sections due this soon are read with it (one window, shared answers).
    ride_along: dt.timedelta = dt.timedelta(minutes=5)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, t.Any]) -> TickSettings:
        """Read the ``[sync]`` table of config/sync.toml; a key left out keeps its default."""
        return cls(
            lease_for=dt.timedelta(seconds=float(raw.get("lease_seconds", 300))),
            batch=int(raw.get("claim_batch", 100)),
            paused_after=dt.timedelta(minutes=float(raw.get("paused_after_minutes", 10))),
            tick=dt.timedelta(seconds=float(raw.get("tick_seconds", 15))),
            ride_along=dt.timedelta(minutes=float(raw.get("ride_along_minutes", 5))),
        )


def tick(
    session: Session,
    *,
    pool: ConnectorPool,
    now: dt.datetime,
    settings: TickSettings,
    queues: Sequence[Queue] = tuple(Queue),
) -> due.Claim:
    """Enrol the children no row knows yet, then claim what is due."""
    enrol_new_links(session, pool=pool, now=now)
    return due.claim(
        session,
        now=now,
        lease_for=settings.lease_for,
        limit=settings.batch,
        queues=queues,
        ride_along=settings.ride_along,
    )


def enrol_new_links(session: Session, *, pool: ConnectorPool, now: dt.datetime) -> int:
    """Give every active link without rows one row per section its system offers."""
    offered: dict[int, frozenset[Section]] = {}
    for link in due.unenrolled(session):
        try:
            offered[link.id] = sections_of(pool.for_instance(link.instance))
        except UnknownConnector:
            continue  # its connector is not installed here; the pages say so
    return due.enrol(session, offered, now=now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Synced:
    """What one sync of a child did."""

    link_id: int
    queue: Queue
    fetched: tuple[Section, ...] = ()
    failed: dict[Section, str] = field(default_factory=dict)
    relink: bool = False
    changes: int = 0  # differences from the last sync, recorded


class SyncService:
    """Read claimed children's sections and settle their rows."""

    def __init__(
        self,
        session: Session,
        *,
        diary: DiaryService,
        cadence: Cadence,
        now: Callable[[], dt.datetime],
        zone: dt.tzinfo,
    ) -> None:
        """Read through ``diary``; ``zone`` is the pages' (their school day and periods)."""
        self._session = session
        self._diary = diary
        self._cadence = cadence
        self._now = now
        self._zone = zone

    def run(self, due_ids: Sequence[int], *, lease: str) -> Synced | None:
        """Sync one child's claimed rows; None when the lease was lost (another took them)."""
        rows = due.held(self._session, due_ids, lease=lease)
        if not rows:
            return None
        link = rows[0].link
        queue = rows[0].queue
        now = asked_at = self._now()
        today = now.astimezone(self._zone).date()
        by_section = {Section(row.section): row for row in rows if row.link_id == link.id}
        plans = self._plan(link, by_section, today, now=now)
        was_active = link.status is LinkStatus.ACTIVE
        [diary] = self._diary.read(
            [link],
            list(by_section),
            {section: plan.asked for section, plan in plans.items()},
            refresh=True,
            mark_changes=False,
            merged_by_caller=frozenset(s for s, plan in plans.items() if plan.into is not None),
        )
        now = self._now()
        fetched: list[Section] = []
        failed: dict[Section, str] = {}
        relink = False
        changes = 0
        for section, row in by_section.items():
            view = diary.sections[section]
            state = view.state
            if state is State.FRESH:
                fetched.append(section)
                changes += self._record(link, section, plans[section], view, now=now)
                self._succeeded(link, section, row, lease=lease, now=now)
            else:
                relink = relink or state is State.RELINK
                failed[section] = state.value
                into = plans[section].into
                if into is not None and state is State.UNAVAILABLE:
                    into.failed_at = asked_at  # the pages' snapshot: its system is down
                self._failed(link, section, row, state, lease=lease, now=now)
        if was_active and link.status is LinkStatus.RELINK_REQUIRED:
            tell_relink(self._session, link, now=now)
        return Synced(
            link_id=link.id,
            queue=queue,
            fetched=tuple(fetched),
            failed=failed,
            relink=relink,
            changes=changes,
        )

    def _plan(
        self,
        link: ChildLink,
        by_section: Mapping[Section, SyncDue],
        today: dt.date,
        *,
        now: dt.datetime,
    ) -> dict[Section, Plan]:
        """Decide what each section's sync asks for and how it stores the answer.

        The first sync of a section each day reads its whole period, so that edits made to
        older marks are seen within a day; the day's later syncs ask only the recent window
        and merge it into the snapshot of the period. A backfill reads the school year.
        """
        defaults = {section: periods.default_period(section, today) for section in by_section}
        shown = snapshots_for(self._session, [link], defaults)
        day_began = dt.datetime.combine(today, dt.time(), self._zone)
        recent = periods.recent_window(today)
        plans: dict[Section, Plan] = {}
        for section, row in by_section.items():
            current = defaults[section]
            if row.queue is Queue.BACKFILL:
                plans[section] = _backfill(section, today, current)
                continue
            snapshot = shown.get((link.id, section))
            read_today = row.synced_at is not None and aware(row.synced_at) >= day_began
            if row.baseline_at is None or not read_today or snapshot is None:
                plans[section] = Plan(
                    asked=current, window=current, baseline=row.baseline_at is None
                )
                continue
            window = _overlap(recent, current)
            plans[section] = Plan(
                asked=recent, window=window, baseline=False, into=snapshot, clipped=True
            )
        return plans

    def _record(
        self, link: ChildLink, section: Section, plan: Plan, view: SectionView, *, now: dt.datetime
    ) -> int:
        """Store what a sync found; return how many changes it recorded.

        The first sync is the starting point: stored, not news. A backfill stores the school
        year before the current weeks as history and leaves the current weeks to the
        scheduled syncs, so a mark given between the baseline and the backfill is still news.
        A short read is merged into the period's snapshot, in place of its recent days.
        """
        if plan.window is None:
            return 0
        found = view.records
        if plan.clipped:
            found = [r for r in found if _covers(plan, records.record_day(r))]
        if plan.into is not None:
            assert view.as_of is not None  # a fresh section was fetched at a known time
            _merge(self._session, plan.into, section, plan.window, found, fetched_at=view.as_of)
        stored = records.apply(
            self._session,
            link_id=link.id,
            section=section,
            window=plan.window,
            records=found,
            seen_at=now,
            baseline=plan.baseline,
        )
        notify.plan(self._session, link, stored, now=now)
        return len(stored)

    def _succeeded(
        self, link: ChildLink, section: Section, row: SyncDue, *, lease: str, now: dt.datetime
    ) -> None:
        backfilled = row.queue is Queue.BACKFILL
        baseline = now if row.baseline_at is None and not backfilled else None
        if row.backfilled_at is None and not backfilled:
            # The baseline is in: read the school year so far, once, behind everything else.
            next_due, queue = now, Queue.BACKFILL
        else:
            next_due, queue = self._next(link, section, now, failures=0), Queue.SCHEDULED
        due.settle(
            self._session,
            row,
            lease=lease,
            next_due=next_due,
            queue=queue,
            now=now,
            baseline_at=baseline,
            backfilled_at=now if backfilled else None,
        )

    def _failed(
        self,
        link: ChildLink,
        section: Section,
        row: SyncDue,
        state: State,
        *,
        lease: str,
        now: dt.datetime,
    ) -> None:
        if state is State.UNSUPPORTED:
            next_due = now + UNOFFERED_AGAIN
        else:
            next_due = self._next(link, section, now, failures=row.failures + 1)
        # A backfill that failed is tried again as one; a failed baseline stays interactive.
        due.settle(
            self._session,
            row,
            lease=lease,
            next_due=next_due,
            queue=row.queue,
            now=now,
            error=state.value,
        )

    def _next(
        self, link: ChildLink, section: Section, now: dt.datetime, *, failures: int
    ) -> dt.datetime:
        return next_due(self._cadence, link, section, now=now, failures=failures)


def next_due(
    cadence: Cadence, link: ChildLink, section: Section, *, now: dt.datetime, failures: int = 0
) -> dt.datetime:
    """Return when a child's section read at ``now`` is next due, for its family's use."""
    last_visit = link.user.last_login_at
    active = last_visit is not None and aware(last_visit) >= cadence.active_since(now)
    return cadence.next_due(
        section,
        after=now,
        timezone=link.instance.timezone,
        active=active,
        failures=failures,
        key=f"{link.id}:{section.value}",
    )


def record_refreshed(
    session: Session,
    link: ChildLink,
    fetched: Mapping[Section, tuple[Period, Sequence[object]]],
    *,
    cadence: Cadence,
    now: dt.datetime,
) -> int:
    """Take what a parent's «Обновить сейчас» fetched as that section's sync.

    Its differences are recorded at once, and the section's next sync waits its interval
    from now instead of asking the system again. A section no sync has read yet, or one a
    worker holds right now, is left to the sync. Return how many changes were recorded.
    """
    rows = due.free_rows(session, link.id, list(fetched), now=now)
    changes = 0
    for row in rows:
        if row.baseline_at is None:
            continue
        section = Section(row.section)
        period, found = fetched[section]
        stored = records.apply(
            session,
            link_id=link.id,
            section=section,
            window=period,
            records=found,
            seen_at=now,
            baseline=False,
        )
        notify.plan(session, link, stored, now=now)
        changes += len(stored)
        due.reschedule(session, row, next_due=next_due(cadence, link, section, now=now), now=now)
    return changes


def tell_relink(session: Session, link: ChildLink, *, now: dt.datetime) -> None:
    """Tell the parent, once, that the school refused the stored access to a child's diary.

    The sync stops reading that child (its rows are not claimed while the link needs
    relinking), so this is sent by the sync that found it, and by no later one.
    """
    user = link.user
    channel, recipient = ("sms", user.phone) if user.phone else ("email", user.email)
    if not recipient:
        return
    subject = f"Нужно заново войти в дневник: {link.display_name}"
    outbox.queue(
        session,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=(
            f"Школьная система больше не принимает сохранённый вход в дневник ребёнка "
            f"«{link.display_name}» (пароль сменили или доступ закрыли). Дневник не "
            "обновляется, пока вы не привяжете его заново: «Настройки» → «Привязать заново»."
        ),
        now=now,
        payload={"link": link.id},
    )
