"""The store of synced records: what each fetch adds, modifies and removes, exactly once."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Grade
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Rating
from connectors.schema import Scale
from connectors.schema import Section
from gateway.models import ChangeKind
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import RecordChange
from gateway.models import SyncedRecord
from gateway.models import User
from gateway.services import records

MONDAY = dt.date(2026, 12, 7)
WEEK = Period(start=MONDAY, end=MONDAY + dt.timedelta(days=6))
FIRST = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
SECOND = FIRST + dt.timedelta(hours=1)
THIRD = SECOND + dt.timedelta(hours=1)


def aware(moment: dt.datetime) -> dt.datetime:
    """Return a stored time as UTC (SQLite gives it back without a zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def make_link(engine: sa.Engine, external_id: str = "s1") -> int:
    """Create a parent, an instance and one linked child; return the link's id."""
    with Session(engine) as session:
        instance = session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == "t"))
        if instance is None:
            instance = ConnectorInstance(
                key="t", region_code="99", region_name="Тест", connector="fake", base_url="x"
            )
        user = User(issuer="http://idp.test", subject=external_id, full_name="Иванова Мария")
        session.add_all([instance, user])
        session.flush()
        link = ChildLink(
            user_id=user.id,
            instance_id=instance.id,
            external_id=external_id,
            display_name="Child1",
            full_name="Иванов Иван",
        )
        session.add(link)
        session.commit()
        return link.id


@pytest.fixture
def link_id(engine: sa.Engine) -> int:
    """Return the id of one linked child."""
    return make_link(engine)


def grade(id: str, value: str = "5", day: dt.date = MONDAY, **extra: t.Any) -> Grade:
    """Return a five-point mark."""
    return Grade(
        id=id,
        subject=extra.pop("subject", "Математика"),
        value=value,
        numeric=float(value),
        scale=Scale.FIVE_POINT,
        date=day,
        **extra,
    )


def lesson(id: str, number: int | None, subject: str, **extra: t.Any) -> Lesson:
    """Return a lesson on Monday."""
    return Lesson(id=id, date=extra.pop("date", MONDAY), number=number, subject=subject, **extra)


def sync(
    session: Session,
    link_id: int,
    found: t.Sequence[object],
    *,
    section: Section = Section.GRADES,
    window: Period | None = WEEK,
    at: dt.datetime = SECOND,
    baseline: bool = False,
) -> list[RecordChange]:
    """Apply one fetch and commit it."""
    changes = records.apply(
        session,
        link_id=link_id,
        section=section,
        window=window,
        records=found,
        seen_at=at,
        baseline=baseline,
    )
    session.commit()
    return changes


def count(session: Session, model: type[SyncedRecord] | type[RecordChange]) -> int:
    """Return how many rows a table holds."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_same_fetch_twice_changes_nothing(session: Session, link_id: int) -> None:
    fetch = [grade("g1"), grade("g2", "4")]
    assert len(sync(session, link_id, fetch, at=FIRST)) == 2
    assert sync(session, link_id, fetch, at=SECOND) == []
    assert sync(session, link_id, [grade("g1"), grade("g2", "4")], at=THIRD) == []
    assert count(session, SyncedRecord) == 2
    assert count(session, RecordChange) == 2
    changed = session.scalars(select(SyncedRecord.changed_at)).all()
    assert {aware(at) for at in changed} == {FIRST}


def test_added_modified_and_removed_keep_before_after_and_when(
    session: Session, link_id: int
) -> None:
    sync(session, link_id, [grade("g1"), grade("g2", "4")], at=FIRST, baseline=True)
    changes = sync(session, link_id, [grade("g1", "3"), grade("g3", "2")], at=SECOND)
    by_key = {change.record_key: change for change in changes}
    assert {key: c.kind for key, c in by_key.items()} == {
        "g1": ChangeKind.MODIFIED,
        "g2": ChangeKind.REMOVED,
        "g3": ChangeKind.ADDED,
    }
    assert (by_key["g1"].before or {})["value"] == "5"
    assert (by_key["g1"].after or {})["value"] == "3"
    assert (by_key["g2"].before or {})["value"] == "4" and by_key["g2"].after is None
    assert by_key["g3"].before is None and (by_key["g3"].after or {})["value"] == "2"
    session.expire_all()
    stored = session.scalars(select(RecordChange)).all()
    assert {aware(c.seen_at) for c in stored} == {SECOND}
    assert {c.day for c in stored} == {MONDAY}
    kept = records.records_for(session, link_id=link_id, section=Section.GRADES, window=None)
    assert [(g.id, g.value) for g in kept] == [("g1", "3"), ("g3", "2")]


def test_a_baseline_stores_everything_and_records_no_change(session: Session, link_id: int) -> None:
    assert sync(session, link_id, [grade("g1"), grade("g2")], baseline=True) == []
    assert count(session, SyncedRecord) == 2
    assert count(session, RecordChange) == 0
    # A second baseline still stores the difference silently.
    assert sync(session, link_id, [grade("g1", "2")], baseline=True, at=THIRD) == []
    assert count(session, RecordChange) == 0
    kept = records.records_for(session, link_id=link_id, section=Section.GRADES, window=None)
    assert [(g.id, g.value) for g in kept] == [("g1", "2")]


def test_a_window_removes_only_records_of_its_own_days(session: Session, link_id: int) -> None:
    last_week = MONDAY - dt.timedelta(days=7)
    rating = Rating(place=3, out_of=25)
    sync(session, link_id, [grade("old", day=last_week), grade("g1")], baseline=True)
    sync(session, link_id, [rating], section=Section.RATING, window=None, baseline=True)
    [removed] = sync(session, link_id, [], window=WEEK)
    assert (removed.record_key, removed.kind) == ("g1", ChangeKind.REMOVED)
    assert count(session, RecordChange) == 1
    # A record without a day is never answered for by a window, only by the full list.
    assert sync(session, link_id, [], section=Section.RATING, window=WEEK) == []
    [gone] = sync(session, link_id, [], section=Section.RATING, window=None, at=THIRD)
    assert (gone.record_key, gone.kind) == ("rating", ChangeKind.REMOVED)
    kept = records.records_for(session, link_id=link_id, section=Section.GRADES, window=None)
    assert [g.id for g in kept] == ["old"]


def test_the_full_list_removes_every_record_it_no_longer_has(
    session: Session, link_id: int
) -> None:
    far = MONDAY - dt.timedelta(days=60)
    sync(session, link_id, [grade("old", day=far), grade("g1")], baseline=True)
    [change] = sync(session, link_id, [grade("g1")], window=None)
    assert (change.record_key, change.kind) == ("old", ChangeKind.REMOVED)


def test_a_lesson_replaced_under_a_new_id_modifies_its_slot(session: Session, link_id: int) -> None:
    sync(
        session,
        link_id,
        [lesson("a1", 1, "Алгебра"), lesson("a2", 2, "Физика", teacher="Петров П. П.")],
        section=Section.SCHEDULE,
        baseline=True,
    )
    replaced = lesson("b7", 2, "Химия", teacher="Сидорова А. А.", room="12")
    [change] = sync(
        session, link_id, [lesson("a1", 1, "Алгебра"), replaced], section=Section.SCHEDULE
    )
    assert change.kind == ChangeKind.MODIFIED
    assert (change.before or {})["subject"] == "Физика"
    assert (change.after or {})["subject"] == "Химия"
    assert (change.after or {})["id"] == "b7"
    slots = records.lesson_changes(session, link_id=link_id, window=WEEK)
    assert list(slots) == [(MONDAY, 2)]
    assert (slots[(MONDAY, 2)].before or {})["subject"] == "Физика"
    assert count(session, SyncedRecord) == 2


def test_the_latest_change_of_a_slot_wins_and_unnumbered_lessons_key_on_their_time(
    session: Session, link_id: int
) -> None:
    eight = dt.time(8, 30)
    sync(
        session,
        link_id,
        [lesson("a", None, "Музыка", starts_at=eight)],
        section=Section.SCHEDULE,
        baseline=True,
    )
    moved = lesson("a", None, "Музыка", starts_at=eight, status=LessonStatus.CANCELLED)
    sync(session, link_id, [moved], section=Section.SCHEDULE, at=SECOND)
    sync(session, link_id, [], section=Section.SCHEDULE, at=THIRD)
    slots = records.lesson_changes(session, link_id=link_id, window=WEEK)
    assert [(slot, c.kind) for slot, c in slots.items()] == [((MONDAY, eight), ChangeKind.REMOVED)]
    assert records.slot_of(moved) == (MONDAY, eight)
    next_week = Period(start=WEEK.end + dt.timedelta(days=1), end=WEEK.end + dt.timedelta(days=7))
    assert records.lesson_changes(session, link_id=link_id, window=next_week) == {}


def test_an_absence_whose_kind_changes_is_modified(session: Session, link_id: int) -> None:
    ill = Attendance(date=MONDAY, kind=AttendanceKind.ILL, subject="Физика", lesson_number=3)
    sync(session, link_id, [ill], section=Section.ATTENDANCE, baseline=True)
    unexcused = Attendance(
        date=MONDAY, kind=AttendanceKind.UNEXCUSED, subject="Физика", lesson_number=3
    )
    [change] = sync(session, link_id, [unexcused], section=Section.ATTENDANCE)
    assert change.kind == ChangeKind.MODIFIED
    assert ((change.before or {})["kind"], (change.after or {})["kind"]) == ("ill", "unexcused")
    assert count(session, SyncedRecord) == 1


def test_a_record_republished_with_the_same_content_is_no_change(
    session: Session, link_id: int
) -> None:
    sync(session, link_id, [lesson("a1", 1, "Алгебра")], section=Section.SCHEDULE, baseline=True)
    sync(session, link_id, [grade("g1", comment="Молодец")], baseline=True)
    # Fresh objects, equal content; the lesson even under a new backend id.
    assert sync(session, link_id, [lesson("z9", 1, "Алгебра")], section=Section.SCHEDULE) == []
    assert sync(session, link_id, [grade("g1", comment="Молодец")]) == []
    assert count(session, RecordChange) == 0


def test_a_record_removed_and_back_again_is_added_again(session: Session, link_id: int) -> None:
    sync(session, link_id, [grade("g1")], at=FIRST)
    sync(session, link_id, [], at=SECOND)
    [back] = sync(session, link_id, [grade("g1")], at=THIRD)
    assert back.kind == ChangeKind.ADDED
    revisions = session.scalars(select(RecordChange.revision).order_by(RecordChange.id)).all()
    assert revisions == [1, 2, 3]
    assert session.scalar(select(SyncedRecord.revision)) == 3


def test_records_come_back_as_schema_records_by_day_then_key(
    session: Session, link_id: int
) -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    fetch = [
        lesson("x", 10, "Труд", date=tuesday),
        lesson("y", 2, "Химия", date=tuesday),
        lesson("z", 1, "Алгебра"),
    ]
    sync(session, link_id, fetch, section=Section.SCHEDULE, baseline=True)
    kept = records.records_for(session, link_id=link_id, section=Section.SCHEDULE, window=WEEK)
    assert kept == [fetch[2], fetch[1], fetch[0]]
    monday = Period(start=MONDAY, end=MONDAY)
    only = records.records_for(session, link_id=link_id, section=Section.SCHEDULE, window=monday)
    assert only == [fetch[2]]


def test_changes_for_read_newest_first_and_since(session: Session, engine: sa.Engine) -> None:
    first, second = make_link(engine, "s1"), make_link(engine, "s2")
    sync(session, first, [grade("g1")], at=FIRST)
    sync(session, second, [grade("g1")], at=SECOND)
    sync(session, first, [grade("g1", "2")], at=THIRD)
    newest = records.changes_for(session, link_ids=[first, second])
    assert [(c.link_id, c.kind) for c in newest] == [
        (first, ChangeKind.MODIFIED),
        (second, ChangeKind.ADDED),
        (first, ChangeKind.ADDED),
    ]
    assert records.changes_for(session, link_ids=[first, second], since=SECOND) == newest[:1]
    assert records.changes_for(session, link_ids=[first], limit=1) == newest[:1]
    assert records.changes_for(session, link_ids=[]) == []


def test_forget_deletes_one_childs_records_and_changes(session: Session, engine: sa.Engine) -> None:
    gone, kept = make_link(engine, "s1"), make_link(engine, "s2")
    sync(session, gone, [grade("g1")])
    sync(session, kept, [grade("g1")])
    records.forget(session, link_id=gone)
    session.commit()
    assert set(session.scalars(select(SyncedRecord.link_id))) == {kept}
    assert set(session.scalars(select(RecordChange.link_id))) == {kept}


def test_unlinking_a_child_cascades_to_its_records_and_changes(
    session: Session, link_id: int
) -> None:
    sync(session, link_id, [grade("g1"), grade("g2")])
    session.execute(sa.delete(ChildLink).where(ChildLink.id == link_id))
    session.commit()
    assert count(session, SyncedRecord) == 0
    assert count(session, RecordChange) == 0


def test_a_change_cannot_be_recorded_twice(session: Session, link_id: int) -> None:
    [added] = sync(session, link_id, [grade("g1")])
    session.add(
        RecordChange(
            link_id=link_id,
            section=added.section,
            record_key=added.record_key,
            revision=added.revision,
            kind=ChangeKind.ADDED,
            after=added.after,
            seen_at=THIRD,
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()


def test_a_fetch_of_more_records_than_one_insert_takes_stores_them_all(
    session: Session, link_id: int
) -> None:
    many = records.CHUNK * 2 + 1
    fetch = [grade(f"g{n:04d}", str(n % 5 + 1)) for n in range(many)]
    changes = sync(session, link_id, fetch, window=None)
    assert [c.record_key for c in changes] == [f"g{n:04d}" for n in range(many)]
    assert {c.kind for c in changes} == {ChangeKind.ADDED}
    assert count(session, SyncedRecord) == many
    assert sync(session, link_id, fetch, window=None, at=THIRD) == []
