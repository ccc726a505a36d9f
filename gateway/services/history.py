"""A child's marks, absences and tasks as the sync saw them change: what one was, when it
changed, and whether the school changed it long after its day.

Built from :class:`~gateway.models.RecordChange` rows, so it knows only what the gateway
itself saw: nothing before a child's first sync (the baseline records no change), and a
change dated when a sync first met it, not when the teacher made it.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import codec
from connectors.schema import Attendance
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Period
from connectors.schema import Section
from gateway.models import ChangeKind
from gateway.models import RecordChange
from gateway.services.records import record_day
from gateway.services.records import record_key
from gateway.services.snapshots import aware

Record = Grade | Attendance | Homework


@dataclass(frozen=True, slots=True)
class Step:
    """One change of a record: what it was before and after (None when added or removed)."""

    kind: ChangeKind
    before: Record | None
    after: Record | None
    seen_at: dt.datetime  # local to the child's region


@dataclass(frozen=True, slots=True)
class RecordHistory:
    """Every change the gateway saw of one mark, absence or task, oldest first."""

    record_key: str
    steps: tuple[Step, ...]
    # Added or changed more than the configured days after its day (a lesson's, a due date).
    retroactive: bool

    @property
    def last(self) -> Step:
        """Return the latest change."""
        return self.steps[-1]

    @property
    def last_edit(self) -> Step | None:
        """Return the latest change of the record's content, None if it was never changed."""
        return next((s for s in reversed(self.steps) if s.kind is ChangeKind.MODIFIED), None)


@dataclass(frozen=True, slots=True)
class SectionHistory:
    """The histories of a period's records of one section, and the records removed from it."""

    records: Mapping[str, RecordHistory] = field(default_factory=dict)
    removed: tuple[Record, ...] = ()
    retroactive_after: dt.timedelta = dt.timedelta(0)

    def of(self, record: object) -> RecordHistory | None:
        """Return a record's history, None when the gateway saw no change of it."""
        return self.records.get(record_key(record))


# The sections whose pages show what changed.
WITH_HISTORY = frozenset({Section.GRADES, Section.ATTENDANCE, Section.HOMEWORK})


def section_history(
    session: Session,
    *,
    link_id: int,
    section: Section,
    period: Period,
    retroactive_after: dt.timedelta,
    zone: ZoneInfo,
) -> SectionHistory:
    """Return the history of a child's records of ``section`` dated in ``period``.

    A record whose latest change removed it is in ``removed``, with its last content. A
    record is retroactive when it was added or changed more than ``retroactive_after``
    after its day, in the child's region.
    """
    rows = session.scalars(
        select(RecordChange)
        .where(
            RecordChange.link_id == link_id,
            RecordChange.section == section.value,
            RecordChange.day >= period.start,
            RecordChange.day <= period.end,
        )
        .order_by(RecordChange.seen_at, RecordChange.revision, RecordChange.id)
    )
    steps: defaultdict[str, list[Step]] = defaultdict(list)
    for row in rows:
        steps[row.record_key].append(
            Step(
                kind=row.kind,
                before=_record(section, row.before),
                after=_record(section, row.after),
                seen_at=aware(row.seen_at).astimezone(zone),
            )
        )
    found = {
        key: RecordHistory(
            record_key=key,
            steps=tuple(changes),
            retroactive=_retroactive(changes, retroactive_after),
        )
        for key, changes in steps.items()
    }
    removed = tuple(
        h.last.before
        for h in found.values()
        if h.last.kind is ChangeKind.REMOVED and h.last.before is not None
    )
    return SectionHistory(records=found, removed=removed, retroactive_after=retroactive_after)


def _record(section: Section, payload: dict[str, t.Any] | None) -> Record | None:
    if payload is None:
        return None
    [record] = codec.decode(section, [payload])
    return t.cast(Record, record)


def _retroactive(steps: list[Step], after: dt.timedelta) -> bool:
    """Whether any addition or edit came later than ``after`` past the record's day."""
    for step in steps:
        day = record_day(step.after) if step.kind is not ChangeKind.REMOVED else None
        if day is not None and step.seen_at.date() - day > after:
            return True
    return False
