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

from connectors.base import sections_of
from connectors.schema import Period
from connectors.schema import Section
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.models import Queue
from gateway.models import SyncDue
from gateway.services import due
from gateway.services import outbox
from gateway.services import periods
from gateway.services import records
from gateway.services.cadence import Cadence
from gateway.services.diary import DiaryService
from gateway.services.diary import State
from gateway.services.instances import ConnectorPool
from gateway.services.instances import UnknownConnector
from gateway.services.snapshots import aware

log = logging.getLogger(__name__)
# A section a child's system stopped offering is looked at again this much later.
UNOFFERED_AGAIN = dt.timedelta(days=1)
DAY = dt.timedelta(days=1)


def _within(day: dt.date | None, window: Period) -> bool:
    return day is not None and window.start <= day <= window.end


@dataclass(frozen=True, slots=True, kw_only=True)
class TickSettings:
    """How much one tick takes on."""

    lease_for: dt.timedelta = dt.timedelta(minutes=5)
    batch: int = 100
    # A row left unclaimed this long past its time means the background is not running.
    paused_after: dt.timedelta = dt.timedelta(minutes=10)
    tick: dt.timedelta = dt.timedelta(seconds=15)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, t.Any]) -> TickSettings:
        """Read the ``[sync]`` table of config/sync.toml; a key left out keeps its default."""
        return cls(
            lease_for=dt.timedelta(seconds=float(raw.get("lease_seconds", 300))),
            batch=int(raw.get("claim_batch", 100)),
            paused_after=dt.timedelta(minutes=float(raw.get("paused_after_minutes", 10))),
            tick=dt.timedelta(seconds=float(raw.get("tick_seconds", 15))),
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
        session, now=now, lease_for=settings.lease_for, limit=settings.batch, queues=queues
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
        today: Callable[[], dt.date],
    ) -> None:
        """Read through ``diary``; ``today`` is the pages' school day (their periods)."""
        self._session = session
        self._diary = diary
        self._cadence = cadence
        self._now = now
        self._today = today

    def run(self, due_ids: Sequence[int], *, lease: str) -> Synced | None:
        """Sync one child's claimed rows; None when the lease was lost (another took them)."""
        rows = due.held(self._session, due_ids, lease=lease)
        if not rows:
            return None
        link = rows[0].link
        queue = rows[0].queue
        today = self._today()
        by_section = {Section(row.section): row for row in rows if row.link_id == link.id}
        period_of: dict[Section, Period] = {
            section: (
                periods.school_year(section, today)
                if queue is Queue.BACKFILL
                else periods.default_period(section, today)
            )
            for section in by_section
        }
        was_active = link.status is LinkStatus.ACTIVE
        [diary] = self._diary.read(
            [link], list(by_section), period_of, refresh=True, mark_changes=False
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
                changes += self._record(link, section, row, view.records, today, now=now)
                self._succeeded(link, section, row, lease=lease, now=now)
            else:
                relink = relink or state is State.RELINK
                failed[section] = state.value
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

    def _record(
        self,
        link: ChildLink,
        section: Section,
        row: SyncDue,
        found: Sequence[object],
        today: dt.date,
        *,
        now: dt.datetime,
    ) -> int:
        """Store what a sync found; return how many changes it recorded.

        The first sync is the starting point: stored, not news. A backfill stores the school
        year before the current weeks as history and leaves the current weeks to the
        scheduled syncs, so a mark given between the baseline and the backfill is still news.
        """
        current = periods.default_period(section, today)
        if row.queue is not Queue.BACKFILL:
            baseline = row.baseline_at is None
            window = current
        else:
            baseline = True
            window = Period(start=periods.school_year_start(today), end=current.start - DAY)
            if window.end < window.start:
                return 0
            found = [r for r in found if _within(records.record_day(r), window)]
        stored = records.apply(
            self._session,
            link_id=link.id,
            section=section,
            window=window,
            records=found,
            seen_at=now,
            baseline=baseline,
        )
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
        changes += len(
            records.apply(
                session,
                link_id=link.id,
                section=section,
                window=period,
                records=found,
                seen_at=now,
                baseline=False,
            )
        )
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
