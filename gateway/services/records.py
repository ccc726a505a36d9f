"""The store of synced records: one row per record, and every difference between syncs.

The background sync hands each fetch of a child's section to :func:`apply`, which keeps
one row per record and turns what differs from the last sync into a
:class:`~gateway.models.RecordChange`. Two workers may apply the same fetch at once (a
lease ran out while its worker was still busy); every write is therefore a
compare-and-swap on the row's content hash and revision, so that exactly one of them
wins each transition and records it. No lock is taken and nothing is kept in memory, on
SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import typing as t
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence

from sqlalchemy import ColumnElement
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from connectors import codec
from connectors.schema import Attendance
from connectors.schema import Event
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import Message
from connectors.schema import Period
from connectors.schema import Rating
from connectors.schema import Section
from gateway.models import ChangeKind
from gateway.models import RecordChange
from gateway.models import SyncedRecord
from gateway.services import ledger
from gateway.services import upserts

# A timetable slot: the day and the lesson's number, or its start time when unnumbered.
Slot = tuple[dt.date, int | dt.time | None]

# Each failed swap means another worker stored a newer state; this many in a row for one
# record means something rewrites it in a loop.
ATTEMPTS = 8
KEY_LENGTH = 255
# Rows to one INSERT: nine parameters each stay far below SQLite's limit of 32766.
CHUNK = 500


class RecordsConflict(RuntimeError):
    """Other writers kept changing a record while this sync tried to store its copy."""


# --- Keys: what names a record across syncs ------------------------------------------


def record_key(record: object) -> str:
    """Return the name a record keeps from one sync to the next.

    Most records carry the backend's id. Lessons are named by their slot, so a lesson
    the backend replaced under a new id is the same slot, modified. An absence is named
    by its day and lesson (its subject when unnumbered) but not its kind, so «ill» turned
    «unexcused» is a modification. A child has one rating (one per subject, where the
    backend ranks subjects).
    """
    if isinstance(record, Lesson):
        return _bounded(_slot_key(record))
    if isinstance(record, Attendance):
        if record.lesson_number is not None:
            return f"{record.date.isoformat()}#{record.lesson_number:02d}"
        return _bounded(f"{record.date.isoformat()}/{record.subject or ''}")
    if isinstance(record, Rating):
        return _bounded("rating" if record.subject is None else f"rating/{record.subject}")
    identity = getattr(record, "id", None)
    if identity is None:
        raise TypeError(f"a {type(record).__name__} has no id to key it on")
    return _bounded(str(identity))


def _slot_key(lesson: Lesson) -> str:
    day = lesson.date.isoformat()
    if lesson.number is not None:
        return f"{day}#{lesson.number:02d}"  # two digits: keys sort in lesson order
    if lesson.starts_at is not None:
        return f"{day}@{lesson.starts_at.isoformat('minutes')}"
    return f"{day}!{lesson.id}"


def slot_of(lesson: Lesson) -> Slot:
    """Return the timetable slot a lesson fills, as :func:`lesson_changes` keys it."""
    return (lesson.date, lesson.number if lesson.number is not None else lesson.starts_at)


def record_day(record: object) -> dt.date | None:
    """Return the day a record belongs to, which decides whether a window covers it."""
    if isinstance(record, Grade | Lesson | Attendance):
        return record.date
    if isinstance(record, Homework):
        return record.due_on
    if isinstance(record, Event):
        return record.starts_at.date()
    if isinstance(record, Message):
        return record.sent_at.date()
    return None  # a rating stands for the whole period


def _bounded(key: str) -> str:
    """Keep a key within its column; an over-long one ends in its own digest instead."""
    if len(key) <= KEY_LENGTH:
        return key
    return key[: KEY_LENGTH - 65] + "~" + hashlib.sha256(key.encode()).hexdigest()


def compared(record: object, payload: Mapping[str, t.Any]) -> Mapping[str, t.Any]:
    """Return the part of an encoded record whose change is news.

    A lesson is its slot: an id the backend issues afresh for the same lesson, same
    subject, teacher, room, time and status, changes nothing the parent sees. When homework
    was set is known only to a fetch that reaches back to that lesson (NetSchool names the
    issuing lesson, not its day): the task is its subject, text, due day and files.
    """
    if isinstance(record, Lesson):
        return {name: value for name, value in payload.items() if name != "id"}
    if isinstance(record, Homework):
        return {name: value for name, value in payload.items() if name != "assigned_on"}
    return payload


def content_hash(payload: Mapping[str, t.Any]) -> str:
    """Return the sha256 of an encoded record's canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Applying a fetch ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Incoming:
    day: dt.date | None
    hash: str
    payload: dict[str, t.Any]


@dataclasses.dataclass(frozen=True, slots=True)
class _Record:
    """Which stored record a statement is about."""

    link_id: int
    section: Section
    key: str

    def row(self) -> list[ColumnElement[bool]]:
        """Return the conditions that pick the record's row."""
        return [
            SyncedRecord.link_id == self.link_id,
            SyncedRecord.section == self.section.value,
            SyncedRecord.record_key == self.key,
        ]


def apply(
    session: Session,
    *,
    link_id: int,
    section: Section,
    window: Period | None,
    records: Sequence[object],
    seen_at: dt.datetime,
    baseline: bool,
) -> list[RecordChange]:
    """Store one fetch of a child's section and return the changes it brought, in key order.

    A new record is *added*, one with other content *modified* (before and after kept),
    and a stored record the fetch no longer has is *removed* when the fetch answers for
    it: its day lies in ``window``, or ``window`` is None (the fetch is the full list,
    day or no day). The same content again writes nothing. A ``baseline`` (the first
    full sync after linking) stores the fetch and records no change. Changes are added
    to ``session`` and flushed, and each state stored is queued for the transparency log
    (:func:`gateway.services.ledger.observe`); the caller commits.

    :raise RecordsConflict: when other writers keep changing one record meanwhile.
    """
    incoming = _incoming(records)
    stored = _stored(session, link_id, section)
    new = {key: record for key, record in incoming.items() if key not in stored}
    changes, lost = _add_new(session, link_id, section, new, seen_at=seen_at)
    targets: dict[str, _Incoming | None] = {key: new[key] for key in lost}
    for key, (digest, day) in stored.items():
        if key in incoming and incoming[key].hash != digest:
            targets[key] = incoming[key]
        elif key not in incoming and _answers_for(window, day):
            targets[key] = None
    # One order for every worker: two of them never wait on each other's rows in a cycle.
    for key in sorted(targets):
        change = _converge(session, _Record(link_id, section, key), targets[key], seen_at=seen_at)
        if change is not None:
            changes.append(change)
    changes.sort(key=lambda change: change.record_key)
    # The log keeps every state stored, a baseline's too: it is what the diary said then.
    ledger.observe(
        session, link_id=link_id, section=section.value, changes=changes, baseline=baseline
    )
    if baseline:
        return []
    session.add_all(changes)
    session.flush()
    return changes


def _incoming(records: Sequence[object]) -> dict[str, _Incoming]:
    """Key and hash a fetch; a key the fetch repeats gets ``~2``, ``~3`` in fetch order."""
    keyed: dict[str, _Incoming] = {}
    for record, payload in zip(records, codec.encode(records), strict=True):
        key = base = record_key(record)
        repeat = 1
        while key in keyed:
            repeat += 1
            key = f"{base}~{repeat}"
        keyed[key] = _Incoming(record_day(record), content_hash(compared(record, payload)), payload)
    return keyed


def _stored(
    session: Session, link_id: int, section: Section
) -> dict[str, tuple[str, dt.date | None]]:
    """Return the hash and day of every stored record of the child's section, by key."""
    rows = session.execute(
        select(SyncedRecord.record_key, SyncedRecord.content_hash, SyncedRecord.day).where(
            SyncedRecord.link_id == link_id, SyncedRecord.section == section.value
        )
    )
    return {key: (digest, day) for key, digest, day in rows}


def _add_new(
    session: Session,
    link_id: int,
    section: Section,
    new: Mapping[str, _Incoming],
    *,
    seen_at: dt.datetime,
) -> tuple[list[RecordChange], list[str]]:
    """Insert the records not stored yet, many to a statement (a backfill brings hundreds).

    Return the additions this insert won and the keys another worker stored first: those
    go the one-by-one way.
    """
    keys = sorted(new)
    last = _last_revisions(session, link_id, section, keys)
    revision = {key: last.get(key, 0) + 1 for key in keys}
    changes: list[RecordChange] = []
    for chunk in _chunks(keys):
        rows = [
            _row(_Record(link_id, section, key), new[key], revision[key], seen_at) for key in chunk
        ]
        for key in _insert(session, rows):
            record = _Record(link_id, section, key)
            changes.append(
                _change(record, revision[key], before=None, after=new[key], seen_at=seen_at)
            )
    won = {change.record_key for change in changes}
    return changes, [key for key in keys if key not in won]


def _row(
    record: _Record, target: _Incoming, revision: int, seen_at: dt.datetime
) -> dict[str, t.Any]:
    """Return the columns of a record stored for the first time."""
    return {
        "link_id": record.link_id,
        "section": record.section.value,
        "record_key": record.key,
        "day": target.day,
        "content_hash": target.hash,
        "payload": target.payload,
        "revision": revision,
        "first_seen_at": seen_at,
        "changed_at": seen_at,
    }


def _insert(session: Session, rows: list[dict[str, t.Any]]) -> list[str]:
    """Insert the rows no other worker has inserted; return the keys this one did."""
    table = SyncedRecord.__table__
    statement = (
        upserts.insert(session, table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["link_id", "section", "record_key"])
        .returning(table.c.record_key)
    )
    return list(session.scalars(statement))


def _last_revisions(
    session: Session, link_id: int, section: Section, keys: Sequence[str]
) -> dict[str, int]:
    """Return the last recorded revision of each key that was stored once and removed."""
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            select(RecordChange.record_key, func.max(RecordChange.revision))
            .where(
                RecordChange.link_id == link_id,
                RecordChange.section == section.value,
                RecordChange.record_key.in_(chunk),
            )
            .group_by(RecordChange.record_key)
        )
        found.update({key: revision for key, revision in rows})
    return found


def _chunks(keys: Sequence[str]) -> list[Sequence[str]]:
    """Cut keys into runs small enough for one statement's parameters on SQLite."""
    return [keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK)]


def _answers_for(window: Period | None, day: dt.date | None) -> bool:
    """Tell whether a fetch of ``window`` says, by leaving a record out, that it is gone."""
    if window is None:
        return True
    return day is not None and window.start <= day <= window.end


class _State(t.NamedTuple):
    content_hash: str
    revision: int
    payload: dict[str, t.Any]
    day: dt.date | None


def _converge(
    session: Session, record: _Record, target: _Incoming | None, *, seen_at: dt.datetime
) -> RecordChange | None:
    """Make the stored record ``target`` (None: gone); return the change if this swap won.

    Each try reads the record afresh and swaps exactly that state for the target; a swap
    that matches nothing means another worker moved the record first: read again.
    """
    for _ in range(ATTEMPTS):
        row = session.execute(
            select(
                SyncedRecord.content_hash,
                SyncedRecord.revision,
                SyncedRecord.payload,
                SyncedRecord.day,
            ).where(*record.row())
        ).one_or_none()
        current = None if row is None else _State(*row)
        if current is None and target is None:
            return None
        if current is not None and target is not None and current.content_hash == target.hash:
            return None
        if current is None:
            revision = _add(session, record, t.cast(_Incoming, target), seen_at=seen_at)
        elif target is None:
            revision = _remove(session, record, current)
        else:
            revision = _modify(session, record, current, target, seen_at=seen_at)
        if revision is not None:
            return _change(record, revision, before=current, after=target, seen_at=seen_at)
    raise RecordsConflict(f"record {record.key!r} kept changing under this sync")


def _add(
    session: Session, record: _Record, target: _Incoming, *, seen_at: dt.datetime
) -> int | None:
    """Insert the record unless another worker has; return its revision if this did."""
    # A key seen before (and removed since) goes on from its last recorded revision.
    last = _last_revisions(session, record.link_id, record.section, [record.key])
    revision = last.get(record.key, 0) + 1
    return revision if _insert(session, [_row(record, target, revision, seen_at)]) else None


def _modify(
    session: Session,
    record: _Record,
    current: _State,
    target: _Incoming,
    *,
    seen_at: dt.datetime,
) -> int | None:
    """Swap the state read for the target's; return the new revision if this did."""
    statement = (
        update(SyncedRecord)
        .where(
            *record.row(),
            SyncedRecord.content_hash == current.content_hash,
            SyncedRecord.revision == current.revision,
        )
        .values(
            day=target.day,
            content_hash=target.hash,
            payload=target.payload,
            revision=current.revision + 1,
            changed_at=seen_at,
        )
        .returning(SyncedRecord.id)
        .execution_options(synchronize_session=False)
    )
    return current.revision + 1 if session.execute(statement).first() is not None else None


def _remove(session: Session, record: _Record, current: _State) -> int | None:
    """Delete the record in the state read; return the revision its removal makes."""
    statement = (
        delete(SyncedRecord)
        .where(
            *record.row(),
            SyncedRecord.content_hash == current.content_hash,
            SyncedRecord.revision == current.revision,
        )
        .returning(SyncedRecord.id)
        .execution_options(synchronize_session=False)
    )
    return current.revision + 1 if session.execute(statement).first() is not None else None


def _change(
    record: _Record,
    revision: int,
    *,
    before: _State | None,
    after: _Incoming | None,
    seen_at: dt.datetime,
) -> RecordChange:
    kind = (
        ChangeKind.ADDED
        if before is None
        else ChangeKind.REMOVED
        if after is None
        else ChangeKind.MODIFIED
    )
    return RecordChange(
        link_id=record.link_id,
        section=record.section.value,
        record_key=record.key,
        revision=revision,
        kind=kind,
        day=after.day if after is not None else t.cast(_State, before).day,
        before=None if before is None else before.payload,
        after=None if after is None else after.payload,
        seen_at=seen_at,
    )


# --- Reading the store ---------------------------------------------------------------


def changes_for(
    session: Session,
    *,
    link_ids: Collection[int],
    since: dt.datetime | None = None,
    limit: int = 100,
) -> list[RecordChange]:
    """Return the children's changes seen after ``since`` (all when None), newest first."""
    if not link_ids:
        return []
    query = select(RecordChange).where(RecordChange.link_id.in_(list(link_ids)))
    if since is not None:
        query = query.where(RecordChange.seen_at > since)
    query = query.order_by(RecordChange.seen_at.desc(), RecordChange.id.desc()).limit(limit)
    return list(session.scalars(query))


def lesson_changes(session: Session, *, link_id: int, window: Period) -> dict[Slot, RecordChange]:
    """Return the latest change of each timetable slot in ``window``, by :func:`slot_of`.

    For a system that does not mark replaced lessons itself: a slot whose latest change
    is *modified* shows what it was («замена: была Физика»).
    """
    rows = session.scalars(
        select(RecordChange)
        .where(
            RecordChange.link_id == link_id,
            RecordChange.section == Section.SCHEDULE.value,
            RecordChange.day >= window.start,
            RecordChange.day <= window.end,
        )
        .order_by(RecordChange.seen_at, RecordChange.id)
    )
    latest: dict[Slot, RecordChange] = {}
    for change in rows:
        payload = change.after if change.after is not None else change.before
        [lesson] = codec.decode(Section.SCHEDULE, [t.cast(dict[str, t.Any], payload)])
        latest[slot_of(lesson)] = change
    return latest


def records_for(
    session: Session, *, link_id: int, section: Section, window: Period | None
) -> list[t.Any]:
    """Return the stored records of a child's section, by day then key, as schema records.

    With a ``window``, only records whose day lies in it (a rating has no day); without
    one, all of them.
    """
    query = select(SyncedRecord.payload).where(
        SyncedRecord.link_id == link_id, SyncedRecord.section == section.value
    )
    if window is not None:
        query = query.where(SyncedRecord.day >= window.start, SyncedRecord.day <= window.end)
    query = query.order_by(SyncedRecord.day.is_(None), SyncedRecord.day, SyncedRecord.record_key)
    return codec.decode(section, session.scalars(query))


def forget(session: Session, *, link_id: int) -> None:
    """Delete a child's synced records and changes (unlinking); the caller commits."""
    for model in (RecordChange, SyncedRecord):
        session.execute(
            delete(model)
            .where(model.link_id == link_id)
            .execution_options(synchronize_session=False)
        )
