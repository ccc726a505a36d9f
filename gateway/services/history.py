"""A child's marks as the sync saw them change: what a mark was, when it changed, and
whether the school changed it long after the lesson.

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
from connectors.schema import Grade
from connectors.schema import Period
from connectors.schema import Section
from gateway.models import ChangeKind
from gateway.models import RecordChange
from gateway.services.records import record_key
from gateway.services.snapshots import aware


@dataclass(frozen=True, slots=True)
class Step:
    """One change of a mark: what it was before and after (None when added or removed)."""

    kind: ChangeKind
    before: Grade | None
    after: Grade | None
    seen_at: dt.datetime  # local to the child's region


@dataclass(frozen=True, slots=True)
class MarkHistory:
    """Every change the gateway saw of one mark, oldest first."""

    record_key: str
    steps: tuple[Step, ...]
    # Added or changed more than the configured days after its lesson's date.
    retroactive: bool

    @property
    def last(self) -> Step:
        """Return the latest change."""
        return self.steps[-1]

    @property
    def last_edit(self) -> Step | None:
        """Return the latest change of the mark's content, None if it was never changed."""
        return next((s for s in reversed(self.steps) if s.kind is ChangeKind.MODIFIED), None)


@dataclass(frozen=True, slots=True)
class GradeHistory:
    """The histories of a period's marks, and the marks removed from it."""

    marks: Mapping[str, MarkHistory] = field(default_factory=dict)
    removed: tuple[Grade, ...] = ()
    retroactive_after: dt.timedelta = dt.timedelta(0)

    def of(self, grade: Grade) -> MarkHistory | None:
        """Return a mark's history, None when the gateway saw no change of it."""
        return self.marks.get(record_key(grade))


def grade_history(
    session: Session,
    *,
    link_id: int,
    period: Period,
    retroactive_after: dt.timedelta,
    zone: ZoneInfo,
) -> GradeHistory:
    """Return the history of a child's marks dated in ``period``.

    A mark whose latest change removed it is in ``removed``, with its last content. A
    mark is retroactive when it was added or changed more than ``retroactive_after``
    after its lesson's day, in the child's region.
    """
    rows = session.scalars(
        select(RecordChange)
        .where(
            RecordChange.link_id == link_id,
            RecordChange.section == Section.GRADES.value,
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
                before=_grade(row.before),
                after=_grade(row.after),
                seen_at=aware(row.seen_at).astimezone(zone),
            )
        )
    marks = {
        key: MarkHistory(
            record_key=key,
            steps=tuple(found),
            retroactive=_retroactive(found, retroactive_after),
        )
        for key, found in steps.items()
    }
    removed = tuple(
        h.last.before
        for h in marks.values()
        if h.last.kind is ChangeKind.REMOVED and h.last.before is not None
    )
    return GradeHistory(marks=marks, removed=removed, retroactive_after=retroactive_after)


def _grade(payload: dict[str, t.Any] | None) -> Grade | None:
    if payload is None:
        return None
    [grade] = codec.decode(Section.GRADES, [payload])
    return t.cast(Grade, grade)


def _retroactive(steps: list[Step], after: dt.timedelta) -> bool:
    """Whether any addition or edit came later than ``after`` past the lesson's day."""
    return any(
        s.after is not None and s.seen_at.date() - s.after.date > after
        for s in steps
        if s.kind is not ChangeKind.REMOVED
    )
