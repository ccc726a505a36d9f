"""Parse the note's example bodies and edge cases into the normalized schema."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.dnevnik_ru import normalize
from connectors.errors import UnexpectedResponse
from connectors.schema import Attachment
from connectors.schema import AttendanceKind
from connectors.schema import Grade
from connectors.schema import LessonStatus
from connectors.schema import Scale
from tests.connectors.dnevnik_ru.helpers import load


def _grades() -> dict[str, Grade]:
    """Return the grades of the fixtures by id."""
    lessons = normalize.lesson_refs(load("group_lessons"))
    found = normalize.grades(load("marks"), load("work_types"), lessons)
    return {g.id: g for g in found}


def test_ids_come_from_the_str_twin_when_the_number_was_rounded() -> None:
    assert normalize.ident({"id": 2260325488551004000, "id_str": "2260325488551003873"}) == (
        "2260325488551003873"
    )
    assert "1854320000003000001" in _grades()


def test_ids_without_a_twin_keep_every_digit_of_the_integer() -> None:
    assert normalize.ident({"subjectId": 1854320000000000301}, "subjectId") == (
        "1854320000000000301"
    )
    assert normalize.ident_list({"groupIds": [1854320000000000101]}, "groupIds") == [
        "1854320000000000101"
    ]


@pytest.mark.parametrize("raw", [1.8543200000000003e18, None, "abc", True])
def test_a_float_or_missing_id_is_schema_drift(raw: object) -> None:
    with pytest.raises(UnexpectedResponse):
        normalize.ident({"id": raw})


def test_five_point_marks_are_numeric_with_weight_work_type_subject_and_lesson_date() -> None:
    grade = _grades()["1854320000003000001"]
    assert (grade.value, grade.numeric, grade.scale) == ("5", 5.0, Scale.FIVE_POINT)
    assert (grade.weight, grade.work_type) == (1.0, "Ответ на уроке")
    assert (grade.subject, grade.topic) == ("Алгебра", "Линейные уравнения")
    assert grade.date == dt.date(2025, 3, 11)


def test_a_minus_mark_keeps_its_text_and_counts_as_its_digit() -> None:
    grade = _grades()["1854320000003000002"]
    assert (grade.value, grade.numeric, grade.weight) == ("4-", 4.0, 4.0)
    assert grade.work_type == "Контрольная работа"
    assert grade.topic is None


def test_pass_marks_stay_text_on_the_pass_fail_scale() -> None:
    grade = _grades()["1854320000003000003"]
    assert (grade.value, grade.numeric, grade.scale) == ("зч", None, Scale.PASS_FAIL)


def test_a_mark_without_work_type_or_known_lesson_falls_back_to_its_own_date() -> None:
    grade = _grades()["1854320000003000004"]
    assert (grade.value, grade.numeric, grade.scale) == ("н/а", None, Scale.PASS_FAIL)
    assert (grade.weight, grade.work_type) == (None, None)
    assert grade.subject == normalize.NO_SUBJECT
    assert grade.date == dt.date(2025, 3, 14)


def test_ten_point_marks_read_value_when_text_value_is_missing() -> None:
    grade = _grades()["1854320000003000005"]
    assert (grade.value, grade.numeric, grade.scale) == ("9", 9.0, Scale.TEN_POINT)
    assert grade.weight is None  # a work type the school list does not have


@pytest.mark.parametrize(
    ("mark_type", "scale"),
    [
        ("mark5", Scale.FIVE_POINT),
        ("MARK10", Scale.TEN_POINT),
        ("mark100", Scale.HUNDRED_POINT),
        ("letters", None),
        (None, Scale.FIVE_POINT),
    ],
)
def test_the_scale_follows_the_mark_system(mark_type: str | None, scale: Scale | None) -> None:
    assert normalize.scale_of(mark_type) == scale


def test_context_children_become_students_with_school_and_class_names() -> None:
    groups = {"1000011234577": load("edu_groups")}
    found = normalize.students(load("context"), load("person_schools"), groups)
    assert [(s.id, s.full_name, s.school, s.class_name) for s in found] == [
        ("1000011234577", "Петров Максим Андреевич", "МОУ СОШ № 7", "7 «Б»"),
        ("1000011234588", "Петрова А.", "МОУ СОШ № 7", None),
    ]


def test_child_links_keep_school_and_group_ids_as_strings() -> None:
    assert normalize.child_links(load("context")) == {
        "1000011234577": {
            "school_id": "1000003456789",
            "group_ids": ["1854320000000000101"],
        },
        "1000011234588": {
            "school_id": "1000003456789",
            "group_ids": ["1854320000000000102"],
        },
    }


def test_schedule_reads_times_room_teacher_and_homework_due_at_the_lesson() -> None:
    first, second, third = normalize.schedule(load("schedule"))
    assert first.id == "1854320000001000005"
    assert (first.date, first.number, first.subject) == (dt.date(2025, 3, 12), 1, "Алгебра")
    assert (first.starts_at, first.ends_at) == (dt.time(8, 30), dt.time(9, 15))
    assert (first.room, first.teacher) == ("214", "Кузнецов Олег Петрович")
    assert first.homework == ("№ 412, 415 (а, б); повторить п. 18",)
    assert first.status is LessonStatus.PLANNED
    assert (second.starts_at, second.ends_at, second.room) == (dt.time(9, 25), None, None)
    assert second.teacher == "Смирнова О.В."
    assert (third.subject, third.status, third.teacher) == ("Музыка", LessonStatus.CANCELLED, None)


def test_homework_reads_subject_dates_and_attachments() -> None:
    algebra, english = sorted(normalize.homework(load("homework")), key=lambda h: h.subject)
    assert (algebra.id, algebra.due_on) == ("1854320000002000022", dt.date(2025, 3, 14))
    assert algebra.assigned_on == dt.date(2025, 3, 10)  # the lesson it was set on
    assert algebra.attachments == (
        Attachment(
            name="задачи.pdf",
            url="https://api.dnevnik.ru/v2/files/1854320000009000001/download",
        ),
    )
    assert english.subject == "Английский язык"
    assert english.assigned_on == dt.date(2025, 3, 11)  # from sentDate: lesson not bundled
    assert english.attachments == ()


def test_attendance_maps_statuses_and_skips_present_entries() -> None:
    lessons = normalize.lesson_refs(load("group_lessons"))
    found = normalize.attendance(load("lesson_log"), lessons)
    assert [(a.date, a.kind, a.subject, a.lesson_number, a.note) for a in found] == [
        (dt.date(2025, 3, 14), AttendanceKind.UNEXCUSED, "Алгебра", 1, None),
        (dt.date(2025, 3, 14), AttendanceKind.ILL, "Английский язык", 2, "Справка от врача"),
        (dt.date(2025, 3, 15), AttendanceKind.LATE, None, None, "10 мин"),
        (dt.date(2025, 3, 15), AttendanceKind.EXCUSED, None, None, None),
    ]


def test_unknown_attendance_status_counts_as_absent() -> None:
    entry = {"lesson_str": "1", "status": "Skipped", "createdDate": "2025-03-15T09:00:00"}
    (found,) = normalize.attendance([entry], {})
    assert found.kind is AttendanceKind.ABSENT


def test_absent_lessons_lists_only_entries_that_become_attendance() -> None:
    assert normalize.absent_lessons(load("lesson_log")) == {
        "1854320000001000009",
        "1854320000001000010",
        "1854320000001000012",
        "1854320000001000013",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-11T14:02:37.417", dt.datetime(2025, 3, 11, 14, 2, 37, 417000)),
        ("2025-03-12T00:00:00", dt.datetime(2025, 3, 12)),
        (
            "2025-03-12T00:00:00+03:00",
            dt.datetime(2025, 3, 12, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        ),
    ],
)
def test_dates_parse_with_or_without_fraction_and_offset(raw: str, expected: dt.datetime) -> None:
    assert normalize.moment(raw) == expected


def test_a_date_that_is_not_iso_is_schema_drift() -> None:
    with pytest.raises(UnexpectedResponse):
        normalize.moment("12.03.2025")


def test_a_mark_with_only_the_lesson_str_twin_still_finds_its_lesson() -> None:
    mark = {k: v for k, v in load("marks")[0].items() if k != "lesson"}
    lessons = normalize.lesson_refs(load("group_lessons"))
    (grade,) = normalize.grades([mark], [], lessons)
    assert grade.subject == "Алгебра"
    assert normalize.marked_lessons([mark, {"id": 1}]) == {"1854320000001000003"}
