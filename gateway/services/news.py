"""Which of a sync's changes are news a family hears of, of what kind, and how urgent.

Pure: it reads :class:`~gateway.models.RecordChange` rows and today's date, nothing else.
A baseline records no change, so it is never news. A record the backend republished under
a new id with the same content (removed under the old id, added under the new one in the
same sync) is not news either.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from connectors.schema import AttendanceKind
from connectors.schema import Scale
from connectors.schema import Section
from gateway.models import ChangeKind
from gateway.models import RecordChange


class NewsKind(enum.StrEnum):
    """What a notification tells of; a person chooses how to hear of each."""

    MARK = "mark"
    MARK_CHANGED = "mark_changed"
    MARK_REMOVED = "mark_removed"
    ABSENCE = "absence"
    TIMETABLE = "timetable"
    HOMEWORK = "homework"
    EVENT = "event"
    MESSAGE = "message"


# The section each kind is read from: a trusted person hears only of granted sections.
SECTION_OF: Mapping[NewsKind, Section] = {
    NewsKind.MARK: Section.GRADES,
    NewsKind.MARK_CHANGED: Section.GRADES,
    NewsKind.MARK_REMOVED: Section.GRADES,
    NewsKind.ABSENCE: Section.ATTENDANCE,
    NewsKind.TIMETABLE: Section.SCHEDULE,
    NewsKind.HOMEWORK: Section.HOMEWORK,
    NewsKind.EVENT: Section.EVENTS,
    NewsKind.MESSAGE: Section.MESSAGES,
}

# Below these a mark is low, per scale: «2» of five, «4» of ten, under half of a hundred.
LOW_BELOW: Mapping[str, float] = {
    Scale.FIVE_POINT.value: 3.0,
    Scale.TEN_POINT.value: 5.0,
    Scale.HUNDRED_POINT.value: 50.0,
    Scale.PASS_FAIL.value: 0.5,
}


@dataclasses.dataclass(frozen=True, slots=True)
class News:
    """One change worth telling: its kind, and whether it is urgent or a low mark."""

    change: RecordChange
    kind: NewsKind
    urgent: bool = False
    low: bool = False


def news_of(changes: Sequence[RecordChange], *, today: dt.date) -> list[News]:
    """Return the news among one sync's changes of a child, in the changes' order.

    ``today`` is the child's day: a timetable change is news only for today and tomorrow.
    """
    ignored = _republished(changes)
    found = []
    for change in changes:
        if _identity(change) in ignored:
            continue
        news = _classify(change, today=today)
        if news is not None:
            found.append(news)
    return found


def _classify(change: RecordChange, *, today: dt.date) -> News | None:
    section, kind = Section(change.section), change.kind
    if section is Section.GRADES:
        if kind is ChangeKind.ADDED:
            return News(change, NewsKind.MARK, low=is_low(change.after))
        if kind is ChangeKind.MODIFIED:
            return News(change, NewsKind.MARK_CHANGED, low=is_low(change.after))
        return News(change, NewsKind.MARK_REMOVED)
    if section is Section.ATTENDANCE and kind is not ChangeKind.REMOVED:
        truant = (change.after or {}).get("kind") == AttendanceKind.UNEXCUSED.value
        return News(change, NewsKind.ABSENCE, urgent=truant)
    if section is Section.SCHEDULE:
        soon = change.day is not None and today <= change.day <= today + dt.timedelta(days=1)
        return News(change, NewsKind.TIMETABLE) if soon else None
    added = {
        Section.HOMEWORK: NewsKind.HOMEWORK,
        Section.EVENTS: NewsKind.EVENT,
        Section.MESSAGES: NewsKind.MESSAGE,
    }
    if section in added and kind is ChangeKind.ADDED:
        return News(change, added[section])
    return None


def is_low(payload: Mapping[str, t.Any] | None) -> bool:
    """Tell whether an encoded mark is a low one for its scale."""
    if not payload or payload.get("numeric") is None:
        return False
    below = LOW_BELOW.get(str(payload.get("scale")))
    return below is not None and float(payload["numeric"]) < below


def _republished(changes: Sequence[RecordChange]) -> set[int]:
    """Return the changes that only moved a record to a new id: removed and added alike."""
    removed: dict[str, list[RecordChange]] = {}
    for change in changes:
        if change.kind is ChangeKind.REMOVED and change.before is not None:
            removed.setdefault(_content(change.section, change.before), []).append(change)
    ignored: set[int] = set()
    for change in changes:
        if change.kind is not ChangeKind.ADDED or change.after is None:
            continue
        twins = removed.get(_content(change.section, change.after))
        if twins:
            ignored.update({_identity(change), _identity(twins.pop())})
    return ignored


def _identity(change: RecordChange) -> int:
    # Unflushed changes (a test's, a baseline's) have no id yet; the object stands in.
    return change.id if change.id is not None else id(change)


def _content(section: str, payload: Mapping[str, t.Any]) -> str:
    rest = {name: value for name, value in payload.items() if name != "id"}
    return section + json.dumps(rest, sort_keys=True, ensure_ascii=False)
