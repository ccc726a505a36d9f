"""Records survive a trip through JSON unchanged."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from connectors import codec
from connectors.schema import Attachment
from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Event
from connectors.schema import EventKind
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Message
from connectors.schema import Rating
from connectors.schema import Scale
from connectors.schema import Section

DAY = dt.date(2026, 11, 27)
RECORDS = {
    Section.GRADES: Grade(
        id="1",
        subject="Алгебра",
        value="5-",
        numeric=5.0,
        scale=Scale.FIVE_POINT,
        date=DAY,
        weight=2.0,
        work_type="Контрольная",
        comment="Молодец",
    ),
    Section.HOMEWORK: Homework(
        id="2",
        subject="Физика",
        text="§ 12",
        due_on=DAY,
        attachments=(Attachment(name="лаб.pdf", url="http://x/1"),),
    ),
    Section.SCHEDULE: Lesson(
        id="3",
        date=DAY,
        number=2,
        subject="Химия",
        starts_at=dt.time(9, 25),
        ends_at=dt.time(10, 10),
        status=LessonStatus.REPLACED,
        homework=("упр. 3",),
    ),
    Section.ATTENDANCE: Attendance(date=DAY, kind=AttendanceKind.UNEXCUSED, subject="ИЗО"),
    Section.EVENTS: Event(
        id="4",
        kind=EventKind.PARENT_MEETING,
        title="Собрание",
        starts_at=dt.datetime(2026, 12, 3, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        place="каб. 204",
        agenda="1. Итоги четверти",
    ),
    Section.MESSAGES: Message(
        id="5",
        sender="Петрова А. А.",
        subject="Экскурсия",
        body="Подпишите согласие",
        sent_at=dt.datetime(2026, 11, 26, 12, 0),
        needs_acknowledgement=True,
    ),
    Section.RATING: Rating(place=3, out_of=25, as_of=DAY),
}


@pytest.mark.parametrize("section", list(RECORDS))
def test_a_record_round_trips_through_json(section: Section) -> None:
    record = RECORDS[section]
    payload = json.loads(json.dumps(codec.encode([record])))
    assert codec.decode(section, payload) == [record]
