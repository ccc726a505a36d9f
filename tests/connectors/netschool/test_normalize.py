"""Parse NetSchool's raw payloads into the schema, one edge case of note §4 at a time."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from connectors.netschool import normalize
from connectors.schema import AttendanceKind
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Scale
from tests.connectors.netschool.helpers import load

WEEK = Period(start=dt.date(2025, 10, 13), end=dt.date(2025, 10, 19))
EDGE_WEEK = Period(start=dt.date(2025, 10, 20), end=dt.date(2025, 10, 26))


def types() -> dict[int, str]:
    """Return the fixture's work-type map."""
    return normalize.work_types(load("assignment_types"))


def by_id(items: list[t.Any]) -> dict[str, t.Any]:
    """Index records by id."""
    return {item.id: item for item in items}


def test_students_take_ids_from_student_id_never_from_the_current_index() -> None:
    """``currentStudentId`` (1 here) is an index: ids come from ``studentId``."""
    students = normalize.students(load("diary_init"))

    assert [s.id for s in students] == ["583101", "583102"]
    assert [s.full_name for s in students] == ["Петров Илья", "Петрова Вера"]


def test_students_keep_a_null_class_name_as_none() -> None:
    """A null ``className`` (the usual case) is no class, a given one reads «3 «А»»."""
    students = normalize.students(load("diary_init"))

    assert [s.class_name for s in students] == [None, "3 «А»"]


def test_students_are_at_the_school_the_sign_in_chose() -> None:
    """§3.3: ``accountInfo.currentOrganization`` names the school; nickName has no patronymic."""
    school = normalize.school_name(load("login_ok"))
    students = normalize.students(load("diary_init"), school)

    assert school == "МАОУ «СОШ № 17 г. Озёрска»"
    assert [(s.full_name, s.school) for s in students] == [
        ("Петров Илья", school),
        ("Петрова Вера", school),
    ]


def test_the_diary_of_a_week_names_the_class() -> None:
    """§2.4: the week's top-level ``className``; ``diary/init`` opens on ``weekStart``."""
    assert normalize.class_of(load("diary_week")) == "8 «В»"
    assert normalize.init_week(load("diary_init"), dt.date(2030, 1, 1)) == WEEK
    assert normalize.init_week({}, dt.date(2025, 10, 16)) == WEEK


def test_work_types_map_ids_to_names() -> None:
    """``grade/assignment/types?all=true`` becomes an id -> name map, inactive ones included."""
    assert types()[3] == "Домашнее задание"
    assert types()[26] == "Чтение наизусть"


def test_grades_keep_every_mark_of_a_lesson_keyed_by_assignment() -> None:
    """The algebra lesson has two marks: both are kept, each under its assignment id."""
    grades = by_id(normalize.grades(load("diary_week"), types()))

    assert set(grades) == {"371002117", "371002130", "371002188"}
    assert grades["371002117"].value == "5"
    assert grades["371002130"].value == "4"
    assert grades["371002117"].subject == grades["371002130"].subject == "Алгебра"


def test_grades_carry_scale_date_weight_type_topic_and_comment() -> None:
    """A §3.7 mark keeps everything the diary says about it."""
    grade = by_id(normalize.grades(load("diary_week"), types()))["371002117"]

    assert grade.numeric == 5.0
    assert grade.scale is Scale.FIVE_POINT
    assert grade.date == dt.date(2025, 10, 13)
    assert grade.weight == 10.0
    assert grade.work_type == "Ответ на уроке"
    assert grade.topic == "Решение квадратных уравнений"
    assert grade.comment == "Отличный разбор у доски"
    assert grade.teacher is None


def test_grades_take_teachers_from_the_mobile_class_meetings() -> None:
    """The web diary names no teacher; the mobile ``classmeetings`` does, per lesson."""
    teachers = normalize.teacher_names(load("classmeetings"))
    grades = by_id(normalize.grades(load("diary_week"), types(), teachers))

    assert grades["371002188"].teacher == "Морозова Елена Викторовна"
    assert 311204560 not in teachers  # a lesson with an empty teachers list


def test_absent_mark_and_null_mark_are_not_grades() -> None:
    """Homework without ``mark`` (2023) and ``"mark": null`` (2019) give no grade."""
    ids = set(by_id(normalize.grades(load("diary_edge_cases"), types())))

    assert "371003003" not in ids  # no mark key at all
    assert "371003004" not in ids  # "mark": null


def test_dot_without_a_mark_is_not_a_grade() -> None:
    """A ``dutyMark`` dot with ``mark: null`` is owed work, never a grade."""
    ids = set(by_id(normalize.grades(load("diary_edge_cases"), types())))

    assert "371003012" not in ids


def test_real_mark_with_a_duty_flag_is_still_a_grade() -> None:
    """``{"mark": 2, "dutyMark": true}`` is a mark of 2."""
    grade = by_id(normalize.grades(load("diary_edge_cases"), types()))["371003011"]

    assert (grade.value, grade.numeric) == ("2", 2.0)


def test_non_numeric_mark_keeps_its_text_without_a_number() -> None:
    """«зч» is shown as is, with no numeric value; an empty comment is no comment."""
    grade = by_id(normalize.grades(load("diary_edge_cases"), types()))["371003002"]

    assert (grade.value, grade.numeric) == ("зч", None)
    assert grade.comment is None


@pytest.mark.parametrize(
    ("raw", "shown", "numeric"),
    [
        (5, "5", 5.0),
        (4.5, "4.5", 4.5),
        ("4,5", "4,5", 4.5),
        ("3", "3", 3.0),
        ("н/а", "н/а", None),
        ("4 (хорошо)", "4 (хорошо)", None),
    ],
)
def test_mark_value_is_numeric_only_when_it_honestly_is_a_number(
    raw: object, shown: str, numeric: float | None
) -> None:
    """Numbers and decimal strings count; any other text keeps its look and no number."""
    assert normalize.mark_value(raw) == (shown, numeric)


def test_zero_weight_is_unknown() -> None:
    """A diary weight of 0 (2019–2023 servers) is unknown, not zero."""
    grades = normalize.grades(load("diary_edge_cases"), types())

    assert {g.weight for g in grades} == {None}


def test_unknown_weights_lists_graded_assignments_only() -> None:
    """Only marks need their card: homework and dots with weight 0 are not listed."""
    assert normalize.unknown_weights(load("diary_edge_cases")) == [
        371003001,
        371003002,
        371003011,
        371003013,
    ]
    assert normalize.unknown_weights(load("diary_week")) == []


def test_unknown_type_id_falls_back_to_the_number() -> None:
    """typeId 40 is in no type list (note §4): the work type is «40»."""
    grade = by_id(normalize.grades(load("diary_edge_cases"), types()))["371003001"]

    assert grade.work_type == "40"


def test_homework_is_the_type_3_assignments_with_their_due_dates() -> None:
    """The §3.7 week sets four tasks; marks of other types are not homework."""
    homework = by_id(normalize.homework(load("diary_week"), WEEK))

    assert set(homework) == {"371002101", "371002190", "371002251", "371002277"}
    assert homework["371002190"].text == "Упр. 148, выучить правило на с. 61"
    assert homework["371002190"].subject == "Русский язык"
    assert homework["371002190"].due_on == dt.date(2025, 10, 13)


def test_homework_issued_on_an_earlier_lesson_outside_the_range_has_no_assigned_date() -> None:
    """``issueClassMeetingId`` names a lesson of an earlier week: the date is unknown."""
    homework = by_id(normalize.homework(load("diary_week"), WEEK))

    assert homework["371002251"].assigned_on is None


def test_homework_issued_on_a_lesson_in_range_takes_its_date() -> None:
    """``issueClassMeetingId`` of a lesson the diary holds gives the assigned date."""
    homework = by_id(normalize.homework(load("diary_edge_cases"), EDGE_WEEK))

    assert homework["371003010"].assigned_on == dt.date(2025, 10, 20)


def test_homework_placeholder_not_set_is_no_task() -> None:
    """«Не задано» means there is nothing to do."""
    homework = by_id(normalize.homework(load("diary_edge_cases"), EDGE_WEEK))

    assert "371003003" not in homework


def test_homework_placeholder_unspecified_is_a_task_without_text() -> None:
    """«---Не указана---» still marks that a task exists."""
    homework = by_id(normalize.homework(load("diary_edge_cases"), EDGE_WEEK))

    assert homework["371003010"].text == ""


def test_homework_due_after_the_period_is_left_out() -> None:
    """A task set on Thursday but due next Monday is not due this week."""
    homework = by_id(normalize.homework(load("diary_edge_cases"), EDGE_WEEK))

    assert "371003014" not in homework
    assert set(homework) == {"371003010"}


def test_schedule_has_no_lessons_on_omitted_days() -> None:
    """The server leaves days without lessons out; they simply have no lessons."""
    lessons = normalize.schedule(load("diary_edge_cases"))

    assert sorted({x.date for x in lessons}) == [dt.date(2025, 10, 20), dt.date(2025, 10, 23)]


def test_schedule_keeps_lessons_without_assignments() -> None:
    """A lesson whose ``assignments`` is absent or null is still a lesson."""
    subjects = [x.subject for x in normalize.schedule(load("diary_edge_cases"))]

    assert subjects == ["Геометрия", "Химия", "Физика", "История"]


def test_schedule_times_are_naive_and_a_null_or_empty_room_is_none() -> None:
    """``HH:MM`` becomes a naive time; ``room: null`` and ``""`` are no room."""
    lessons = by_id(normalize.schedule(load("diary_edge_cases")))

    geometry = lessons["311205001"]
    assert (geometry.starts_at, geometry.ends_at) == (dt.time(8, 30), dt.time(9, 15))
    assert geometry.starts_at.tzinfo is None
    assert geometry.room is None
    assert lessons["311205003"].room is None
    assert lessons["311205002"].room == "214/кабинет химии"


def test_schedule_lessons_are_planned_and_list_their_homework_texts() -> None:
    """The web diary has no change field; a lesson lists its tasks' texts, placeholders out."""
    lessons = by_id(normalize.schedule(load("diary_week")))

    assert {x.status for x in lessons.values()} == {LessonStatus.PLANNED}
    assert lessons["311204533"].homework == ("Упр. 148, выучить правило на с. 61",)
    assert lessons["311204533"].number == 2
    assert by_id(normalize.schedule(load("diary_edge_cases")))["311205001"].homework == ()


@pytest.mark.parametrize(
    ("lesson_number", "kind", "note"),
    [
        (2, AttendanceKind.LATE, None),  # ОП
        (3, AttendanceKind.EXCUSED, "освобождён"),  # ОСВ
    ],
)
def test_attendance_codes_of_monday(lesson_number: int, kind: AttendanceKind, note: str) -> None:
    """ОП is a late arrival; ОСВ (released) counts as excused, with a note saying so."""
    records = {
        x.lesson_number: x
        for x in normalize.attendance(load("classmeetings"))
        if x.date == dt.date(2025, 10, 13)
    }

    assert (records[lesson_number].kind, records[lesson_number].note) == (kind, note)


@pytest.mark.parametrize(
    ("lesson_number", "kind"),
    [
        (1, AttendanceKind.UNEXCUSED),  # НП
        (2, AttendanceKind.ILL),  # Б
        (3, AttendanceKind.EXCUSED),  # УП
        (4, AttendanceKind.ABSENT),  # ОТ
    ],
)
def test_attendance_codes_of_tuesday(lesson_number: int, kind: AttendanceKind) -> None:
    """НП, Б, УП and ОТ map to unexcused, ill, excused and absent."""
    records = {
        x.lesson_number: x
        for x in normalize.attendance(load("classmeetings"))
        if x.date == dt.date(2025, 10, 14)
    }

    assert records[lesson_number].kind is kind
    assert records[lesson_number].note is None


def test_unknown_attendance_code_is_an_absence_keeping_the_code() -> None:
    """«Н» is in no client table: an absence with the code as its note."""
    music = [x for x in normalize.attendance(load("classmeetings")) if x.subject == "Музыка"]

    assert [(x.kind, x.note) for x in music] == [(AttendanceKind.ABSENT, "Н")]


def test_lessons_attended_give_no_attendance_record() -> None:
    """``attendance: null`` means the child was there."""
    records = normalize.attendance(load("classmeetings"))

    assert "Алгебра" not in {x.subject for x in records}
    assert len(records) == 7
