"""What names a synced record across syncs, what day it belongs to, and its content hash."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import codec
from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Event
from connectors.schema import EventKind
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import Message
from connectors.schema import Rating
from connectors.schema import Section
from gateway.models import SyncedRecord
from gateway.services import records
from gateway.services.records import record_day
from gateway.services.records import record_key
from tests.gateway.services.test_records import MONDAY
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link

EVENING = dt.datetime(2026, 12, 7, 18, 30, tzinfo=dt.UTC)


def test_the_content_hash_ignores_the_order_of_keys() -> None:
    one = {"id": "g1", "value": "5", "nested": {"a": 1, "b": [1, 2]}}
    other = {"nested": {"b": [1, 2], "a": 1}, "value": "5", "id": "g1"}
    assert records.content_hash(one) == records.content_hash(other)
    assert len(records.content_hash(one)) == 64
    assert records.content_hash(one) != records.content_hash({**one, "value": "4"})
    assert records.content_hash(one) != records.content_hash({**one, "nested": {"a": 1}})


@pytest.mark.parametrize(
    ("record", "key", "day"),
    [
        (grade("g-17"), "g-17", MONDAY),
        (Homework(id="h1", subject="Физика", text="§3", due_on=MONDAY), "h1", MONDAY),
        (
            Event(id="e1", kind=EventKind.EXAM, title="ОГЭ", starts_at=EVENING),
            "e1",
            MONDAY,
        ),
        (
            Message(id="m1", sender="Учитель", subject="Тема", body="Текст", sent_at=EVENING),
            "m1",
            MONDAY,
        ),
        (Lesson(id="x", date=MONDAY, number=3, subject="Химия"), "2026-12-07#03", MONDAY),
        (
            Lesson(id="x", date=MONDAY, number=None, subject="Хор", starts_at=dt.time(14, 5)),
            "2026-12-07@14:05",
            MONDAY,
        ),
        (Lesson(id="x", date=MONDAY, number=None, subject="Хор"), "2026-12-07!x", MONDAY),
        (
            Attendance(date=MONDAY, kind=AttendanceKind.LATE, lesson_number=2, subject="ИЗО"),
            "2026-12-07#02",
            MONDAY,
        ),
        (
            Attendance(date=MONDAY, kind=AttendanceKind.ILL, subject="ИЗО"),
            "2026-12-07/ИЗО",
            MONDAY,
        ),
        (Attendance(date=MONDAY, kind=AttendanceKind.ILL), "2026-12-07/", MONDAY),
        (Rating(place=2, out_of=20, as_of=MONDAY), "rating", None),
        (Rating(place=1, out_of=20, subject="Физика"), "rating/Физика", None),
    ],
)
def test_each_kind_of_record_has_its_key_and_day(
    record: object, key: str, day: dt.date | None
) -> None:
    assert (record_key(record), record_day(record)) == (key, day)


def test_a_record_without_an_id_or_rule_is_refused() -> None:
    with pytest.raises(TypeError):
        record_key(object())


def test_an_over_long_key_stays_within_its_column_and_distinct() -> None:
    long = "x" * 300
    assert len(record_key(grade(long))) == records.KEY_LENGTH
    assert record_key(grade(long)) != record_key(grade(long + "y"))


def test_the_same_key_twice_in_one_fetch_keeps_both_records(clean_database: str) -> None:
    engine = sa.create_engine(clean_database)
    link_id = make_link(engine)
    # Two groups of one class in the same slot: both lessons are kept, in fetch order.
    first = Lesson(id="a", date=MONDAY, number=4, subject="Английский язык (гр. 1)")
    second = Lesson(id="b", date=MONDAY, number=4, subject="Английский язык (гр. 2)")
    with Session(engine) as session:
        records.apply(
            session,
            link_id=link_id,
            section=Section.SCHEDULE,
            window=None,
            records=[first, second],
            seen_at=EVENING,
            baseline=True,
        )
        session.commit()
        rows = session.execute(
            select(SyncedRecord.record_key, SyncedRecord.payload).order_by(SyncedRecord.record_key)
        ).all()
    engine.dispose()
    assert [key for key, _ in rows] == ["2026-12-07#04", "2026-12-07#04~2"]
    assert codec.decode(Section.SCHEDULE, [payload for _, payload in rows]) == [first, second]
