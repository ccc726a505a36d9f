"""Timetable changes the gateway sees for itself, for systems that do not mark them.

Dnevnik.ru and NetSchool show a replaced lesson as the new one and drop a cancelled one. The
sync keeps each slot of the timetable (:mod:`gateway.services.records`): a slot whose lesson
now differs from what was seen there before is a replacement, and a slot that emptied is a
cancelled lesson; the schedule shows both as if the system had said so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from connectors import codec
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Section
from gateway.models import ChangeKind
from gateway.models import RecordChange
from gateway.services.records import Slot
from gateway.services.records import slot_of


@dataclass(frozen=True, slots=True)
class SlotChange:
    """The latest change seen in a timetable slot: its kind and what the slot held before.

    Plain data, so that one copy can serve every page until the timetable is read again.
    """

    kind: ChangeKind
    before: Lesson | None


def slot_changes(changes: Mapping[Slot, RecordChange]) -> dict[Slot, SlotChange]:
    """Turn stored changes into :class:`SlotChange` values."""
    return {
        slot: SlotChange(
            kind=change.kind, before=None if change.before is None else _lesson(change.before)
        )
        for slot, change in changes.items()
    }


def _lesson(payload: t.Any) -> Lesson:
    [lesson] = codec.decode(Section.SCHEDULE, [t.cast(dict[str, t.Any], payload)])
    return t.cast(Lesson, lesson)


def with_detected_changes(
    lessons: Sequence[Lesson], changes: Mapping[Slot, SlotChange], *, today: dt.date
) -> list[Lesson]:
    """Return the lessons with the changes seen in their slots marked on them.

    A lesson whose subject or teacher differs from what its slot held is *replaced*, with
    what was there; a slot from today on that lost its lesson comes back *cancelled*.
    Lessons the system marked itself are left as they are.
    """
    out: list[Lesson] = []
    filled: set[Slot] = set()
    for lesson in lessons:
        slot = slot_of(lesson)
        filled.add(slot)
        change = changes.get(slot)
        if change is None or lesson.status is not LessonStatus.PLANNED:
            out.append(lesson)
        elif change.kind is ChangeKind.MODIFIED and change.before is not None:
            out.append(_replaced(lesson, change.before))
        else:
            out.append(lesson)
    for slot, change in changes.items():
        if slot in filled or change.kind is not ChangeKind.REMOVED or change.before is None:
            continue
        if change.before.date >= today:
            out.append(dataclasses.replace(change.before, status=LessonStatus.CANCELLED))
    return out


def _replaced(lesson: Lesson, before: Lesson) -> Lesson:
    if before.subject != lesson.subject:
        return dataclasses.replace(lesson, status=LessonStatus.REPLACED, was=before.subject)
    if before.teacher and before.teacher != lesson.teacher:
        return dataclasses.replace(lesson, status=LessonStatus.REPLACED, was=before.teacher)
    return lesson  # the room or the time moved: shown as the system gives it
