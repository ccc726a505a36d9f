"""The background sync's due list: one row per linked child and section, claimed by lease.

A scheduler's tick claims the rows that are due, most urgent first, by writing a lease into
them in one statement, so two schedulers or workers never take the same row: on PostgreSQL
the rows are picked ``FOR UPDATE SKIP LOCKED``; SQLite runs one writer at a time, so the
same statement is atomic there as it stands. A worker that dies holding rows simply lets
their lease run out; the next tick claims them again. Only the holder of a lease may settle
its row (:func:`settle`), so a worker that comes back late cannot overwrite a newer sync.
"""

from __future__ import annotations

import datetime as dt
import typing as t
import uuid
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from connectors.schema import Section
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import LinkStatus
from gateway.models import Queue
from gateway.models import SyncDue
from gateway.services import upserts

PRIORITY: Mapping[Queue, int] = {Queue.INTERACTIVE: 0, Queue.SCHEDULED: 10, Queue.BACKFILL: 20}


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """Rows one tick took, by queue, and the lease that lets their worker settle them."""

    lease: str
    rows: Mapping[Queue, Sequence[tuple[int, int]]]  # queue -> (due id, link id)

    def batches(self) -> list[tuple[Queue, list[int]]]:
        """Group the rows into one batch per child, on its queue (a child's sections share
        one sign-in at the backend)."""
        out: list[tuple[Queue, list[int]]] = []
        for queue, rows in self.rows.items():
            by_link: dict[int, list[int]] = {}
            for due_id, link_id in rows:
                by_link.setdefault(link_id, []).append(due_id)
            out.extend((queue, sorted(ids)) for _, ids in sorted(by_link.items()))
        return out

    def __len__(self) -> int:
        """Return how many rows were claimed."""
        return sum(len(rows) for rows in self.rows.values())


def enrol(
    session: Session, sections_of: Mapping[int, Iterable[Section]], *, now: dt.datetime
) -> int:
    """Give each child's sections a row, due at once on the interactive queue.

    Rows a child already has are left as they are; return how many rows were added.
    """
    values = [
        {
            "link_id": link_id,
            "section": section.value,
            "due_at": now,
            "priority": PRIORITY[Queue.INTERACTIVE],
            "queue": Queue.INTERACTIVE,
            "failures": 0,
        }
        for link_id, sections in sections_of.items()
        for section in sections
    ]
    if not values:
        return 0
    statement = upserts.insert(session, SyncDue).values(values)
    statement = statement.on_conflict_do_nothing(index_elements=["link_id", "section"])
    inserted = session.scalars(statement.returning(SyncDue.id)).all()
    return len(inserted)


def unenrolled(session: Session) -> list[ChildLink]:
    """Return the active links that have no row yet (linked before the sync ran, seeded)."""
    return list(
        session.scalars(
            select(ChildLink).where(
                ChildLink.status == LinkStatus.ACTIVE,
                ~exists().where(SyncDue.link_id == ChildLink.id),
            )
        )
    )


def claim(
    session: Session,
    *,
    now: dt.datetime,
    lease_for: dt.timedelta,
    limit: int,
    queues: Iterable[Queue] = tuple(Queue),
    ride_along: dt.timedelta = dt.timedelta(0),
) -> Claim:
    """Lease up to ``limit`` due rows of active links on enabled instances, most urgent first.

    A claimed child's scheduled rows due within ``ride_along`` are leased with them: read
    together, the sections one answer serves are asked once (the sync asks one window for
    all), so a child's sections are synced side by side rather than each on its own.
    """
    wanted = tuple(queues)
    syncable = exists().where(
        ChildLink.id == SyncDue.link_id,
        ChildLink.status == LinkStatus.ACTIVE,
        ChildLink.credential_id.is_not(None),
        ConnectorInstance.id == ChildLink.instance_id,
        ConnectorInstance.enabled.is_(True),
    )
    picked = (
        select(SyncDue.id)
        .where(
            SyncDue.due_at <= now,
            SyncDue.queue.in_(wanted),
            or_(SyncDue.lease_until.is_(None), SyncDue.lease_until < now),
            syncable,
        )
        .order_by(SyncDue.priority, SyncDue.due_at, SyncDue.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True, of=SyncDue)
    lease = uuid.uuid4().hex
    rows = _lease(session, picked, lease, until=now + lease_for)
    room = limit - len(rows)
    if ride_along and Queue.SCHEDULED in wanted and room > 0:
        rows += _riders(
            session, rows, lease, now=now, lease_for=lease_for, within=ride_along, limit=room
        )
    by_queue: dict[Queue, list[tuple[int, int]]] = {}
    for due_id, link_id, queue in rows:
        by_queue.setdefault(queue, []).append((due_id, link_id))
    return Claim(lease=lease, rows=by_queue)


Claimed = tuple[int, int, Queue]  # a leased row: its id, its link, its queue


def _lease(
    session: Session, picked: Select[t.Any], lease: str, *, until: dt.datetime
) -> list[Claimed]:
    """Lease the picked rows; return them."""
    found = session.execute(
        update(SyncDue)
        .where(SyncDue.id.in_(picked.scalar_subquery()))
        .values(lease_until=until, leased_by=lease)
        .returning(SyncDue.id, SyncDue.link_id, SyncDue.queue)
        .execution_options(synchronize_session=False)
    )
    return [(int(row_id), int(link_id), Queue(queue)) for row_id, link_id, queue in found]


def _riders(
    session: Session,
    claimed: Sequence[Claimed],
    lease: str,
    *,
    now: dt.datetime,
    lease_for: dt.timedelta,
    within: dt.timedelta,
    limit: int,
) -> list[Claimed]:
    """Lease, with the same lease, the claimed children's scheduled rows due ``within``
    (no more than ``limit``, the room the tick's batch has left)."""
    links = sorted({link_id for _, link_id, queue in claimed if queue is Queue.SCHEDULED})
    if not links:
        return []
    picked = (
        select(SyncDue.id)
        .where(
            SyncDue.link_id.in_(links),
            SyncDue.queue == Queue.SCHEDULED,
            SyncDue.due_at <= now + within,
            or_(SyncDue.lease_until.is_(None), SyncDue.lease_until < now),
        )
        .order_by(SyncDue.due_at, SyncDue.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True, of=SyncDue)
    return _lease(session, picked, lease, until=now + lease_for)


def held(session: Session, due_ids: Sequence[int], *, lease: str) -> list[SyncDue]:
    """Return the rows of ``due_ids`` still held under ``lease`` (a late worker gets none)."""
    return list(
        session.scalars(
            select(SyncDue)
            .where(SyncDue.id.in_(due_ids), SyncDue.leased_by == lease)
            .order_by(SyncDue.id)
        )
    )


def settle(
    session: Session,
    row: SyncDue,
    *,
    lease: str,
    next_due: dt.datetime,
    queue: Queue,
    now: dt.datetime,
    error: str | None = None,
    baseline_at: dt.datetime | None = None,
    backfilled_at: dt.datetime | None = None,
) -> bool:
    """Release a row with its next due time; False when the lease was lost meanwhile.

    ``error`` None means the sync worked (the failure count starts again); ``baseline_at``
    and ``backfilled_at``, when given, mark the child's first sync and its school year read.
    """
    values: dict[str, object] = {
        "lease_until": None,
        "leased_by": None,
        "due_at": next_due,
        "queue": queue,
        "priority": PRIORITY[queue],
        "last_error": error,
    }
    if baseline_at is not None:
        values["baseline_at"] = baseline_at
    if backfilled_at is not None:
        values["backfilled_at"] = backfilled_at
    if error is None:
        values |= {"synced_at": now, "failures": 0}
    else:
        values["failures"] = SyncDue.failures + 1
    result = session.execute(
        update(SyncDue)
        .where(SyncDue.id == row.id, SyncDue.leased_by == lease)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    session.expire(row)
    return bool(_matched(result))


def free_rows(
    session: Session, link_id: int, sections: Sequence[Section], *, now: dt.datetime
) -> list[SyncDue]:
    """Return a child's rows of these sections that no worker holds now."""
    return list(
        session.scalars(
            select(SyncDue).where(
                SyncDue.link_id == link_id,
                SyncDue.section.in_([s.value for s in sections]),
                or_(SyncDue.lease_until.is_(None), SyncDue.lease_until < now),
            )
        )
    )


def reschedule(session: Session, row: SyncDue, *, next_due: dt.datetime, now: dt.datetime) -> bool:
    """Count a read made outside the sync (a parent's refresh) as the row's sync.

    A worker that claimed the row meanwhile keeps it; return False then.
    """
    result = session.execute(
        update(SyncDue)
        .where(
            SyncDue.id == row.id,
            or_(SyncDue.lease_until.is_(None), SyncDue.lease_until < now),
        )
        .values(synced_at=now, due_at=next_due, failures=0, last_error=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(row)
    return bool(_matched(result))


def hurry(
    session: Session,
    link_id: int,
    sections: Iterable[Section],
    *,
    now: dt.datetime,
    debounce: dt.timedelta,
) -> int:
    """Put a child's sections first in line, unless they were synced within ``debounce``.

    Rows held by a worker are left to it. Return how many rows were moved up.
    """
    result = session.execute(
        update(SyncDue)
        .where(
            SyncDue.link_id == link_id,
            SyncDue.section.in_([s.value for s in sections]),
            or_(SyncDue.synced_at.is_(None), SyncDue.synced_at < now - debounce),
            or_(SyncDue.lease_until.is_(None), SyncDue.lease_until < now),
            # A backfill waiting its turn keeps it: it reads the current weeks too.
            SyncDue.queue != Queue.BACKFILL,
        )
        .values(due_at=now, queue=Queue.INTERACTIVE, priority=PRIORITY[Queue.INTERACTIVE])
        .execution_options(synchronize_session=False)
    )
    return _matched(result)


def kept(
    session: Session, link_ids: Sequence[int], *, now: dt.datetime, within: dt.timedelta
) -> set[tuple[int, Section]]:
    """Return the children's sections the sync has read and keeps reading on time.

    A row synced at least once that is not waiting past ``within`` of its due time: its
    snapshot is as current as the cadence keeps it.
    """
    if not link_ids:
        return set()
    rows = session.execute(
        select(SyncDue.link_id, SyncDue.section).where(
            SyncDue.link_id.in_(list(link_ids)),
            SyncDue.synced_at.is_not(None),
            or_(
                SyncDue.due_at >= now - within,
                and_(SyncDue.lease_until.is_not(None), SyncDue.lease_until >= now),
            ),
        )
    )
    return {(link_id, Section(section)) for link_id, section in rows}


def behind(
    session: Session, link_ids: Sequence[int], *, now: dt.datetime, by: dt.timedelta
) -> bool:
    """Tell whether any of these children's rows has waited unclaimed for longer than ``by``.

    Workers claim a row within a tick of its due time; one left waiting means the scheduler,
    the workers or the broker are not running (or far behind), and pages read the diaries
    themselves meanwhile.
    """
    if not link_ids:
        return False
    waiting = select(SyncDue.id).where(
        SyncDue.link_id.in_(list(link_ids)),
        SyncDue.due_at < now - by,
        or_(SyncDue.lease_until.is_(None), SyncDue.lease_until < now),
        exists().where(
            and_(ChildLink.id == SyncDue.link_id, ChildLink.status == LinkStatus.ACTIVE)
        ),
    )
    return session.scalar(waiting.limit(1)) is not None


def _matched(result: object) -> int:
    """Return the number of rows an UPDATE matched."""
    return int(getattr(result, "rowcount", 0) or 0)
