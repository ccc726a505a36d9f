"""Parse the note's example bodies (§3) and edge cases (§4) into the normalized schema."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.mesh import normalize
from connectors.schema import Attachment
from connectors.schema import AttendanceKind
from connectors.schema import EventKind
from connectors.schema import Grade
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Scale
from tests.connectors.mesh.helpers import as_calendar
from tests.connectors.mesh.helpers import fixture

OCTOBER = Period(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))


def test_students_come_from_the_family_profile_children() -> None:
    """Each child becomes a student keyed by the student profile id."""
    found = normalize.students(fixture("profile"))
    assert [s.id for s in found] == ["17234001", "17234002"]
    misha = found[0]
    assert misha.full_name == "Соколов Миша Петрович"
    assert misha.school == "ГБОУ Школа № 0000"
    assert misha.class_name == "6 «Б»"  # «6-Б» on the wire
    assert misha.birth_date == dt.date(2013, 5, 20)


def test_profile_gives_the_parent_profile_id_and_each_childs_person_id() -> None:
    """The parent's id goes to Profile-Id; the contingent GUID to the calendar and rating."""
    profile = fixture("profile")
    assert normalize.parent_profile_id(profile) == 9120455
    ids = normalize.children_ids(profile)
    assert ids["17234001"] == {
        "person_id": "c1d2e3f4-1111-4a2b-9c3d-000000000001",
        "contract_id": 3300771,
    }
    assert ids["17234002"]["contract_id"] is None


def test_five_point_marks_keep_value_weight_and_work_type() -> None:
    """§3.2: the value as shown, the five-point number, the weight and the comment."""
    first, test, _ = normalize.grades(as_calendar(fixture("marks")))
    assert (first.id, first.value, first.numeric, first.scale) == (
        "2711304411",
        "5",
        5.0,
        Scale.FIVE_POINT,
    )
    assert first.comment is None
    assert (test.weight, test.work_type, test.date) == (
        2.0,
        "Контрольная работа",
        dt.date(2026, 10, 8),
    )
    assert test.comment == "Ошибки в задачах 3 и 5, повторить тему «Дроби»"


def test_a_point_is_kept_out_of_averages_and_says_until_when() -> None:
    """§3.2, §4.3: a «точка» shows its value but has no numeric value."""
    point = normalize.grades(as_calendar(fixture("marks")))[2]
    assert point.value == "2"
    assert point.numeric is None
    assert point.comment == "Не сдана тетрадь (Точка: исправить до 16.10.2026)"


def test_a_lessons_marks_take_its_date_and_subject() -> None:
    """§2.4 a: the calendar nests a lesson's marks without a date or subject of their own;
    a lesson starting late on the 12th in UTC is the 13th in Moscow."""
    body = fixture("calendar_week")
    (mark,) = normalize.grades(body)
    assert (mark.id, mark.value, mark.subject, mark.date) == (
        "2711320001",
        "4",
        "Математика",
        dt.date(2026, 10, 13),
    )
    assert (mark.weight, mark.work_type, mark.numeric) == (1.0, "Самостоятельная работа", 4.0)
    assert mark.comment is None
    body["response"][1]["start_at"] = "2026-10-12T21:30:00Z"
    assert normalize.grades(body)[0].date == dt.date(2026, 10, 13)


def test_events_and_lessons_without_marks_give_no_grades() -> None:
    """School events never carry marks; a lesson read without ``expand=marks`` has none."""
    body = fixture("calendar_week")
    for event in body["response"]:
        event.pop("marks", None)
    assert normalize.grades(body) == []


def _edge(mark_id: int) -> Grade:
    """Return one mark of the edge-case fixture by id."""
    marks = {int(g.id): g for g in normalize.grades(as_calendar(fixture("marks_edge_cases")))}
    return marks[mark_id]


@pytest.mark.parametrize(
    ("mark_id", "value", "numeric", "scale"),
    [
        (1, "зч", None, Scale.PASS_FAIL),
        (2, "н/а", None, Scale.FIVE_POINT),
        (3, "8", 8.0, Scale.TEN_POINT),
        (4, "87", 87.0, Scale.HUNDRED_POINT),
        (5, "5-", 4.75, Scale.FIVE_POINT),
        (6, "4", 4.0, Scale.FIVE_POINT),
        (7, "Знание: 3; Применение: 2", None, Scale.FIVE_POINT),
    ],
)
def test_odd_marks_keep_their_text_and_scale(
    mark_id: int, value: str, numeric: float | None, scale: Scale
) -> None:
    """§4.1, §4.2: text marks, other scales, modifiers, null values, criteria."""
    mark = _edge(mark_id)
    assert (mark.value, mark.numeric, mark.scale) == (value, numeric, scale)


def test_weight_zero_is_kept_as_zero() -> None:
    """§4.1: a weight of 0 stays 0, so averages can skip the mark."""
    assert _edge(6).weight == 0.0


def test_mark_detail_gives_teacher_and_topic() -> None:
    """§2.1 mark detail: the teacher and the lesson topic, when the body carries them."""
    mark = _edge(8)
    assert mark.teacher == "Орлова Елена Викторовна"
    assert mark.topic == "Деление дробей"
    assert mark.comment == "Хорошо"


def test_homework_keeps_text_dates_and_attachments() -> None:
    """§3.3: a test link in materials becomes an attachment with its URL."""
    plain, test, club, old = normalize.homeworks(fixture("homeworks"))
    assert (plain.id, plain.subject, plain.text) == (
        "1990455012",
        "Математика",
        "№ 214, 217 (стр. 58)",
    )
    assert (plain.due_on, plain.assigned_on, plain.attachments) == (
        dt.date(2026, 10, 13),
        dt.date(2026, 10, 12),
        (),
    )
    assert test.attachments == (
        Attachment(
            name="Части речи. Проверочный тест",
            url="https://uchebnik.mos.ru/exam/test/training_spec/55123",
        ),
    )
    assert club.subject == "Спортивные игры"
    assert old.text == "Прочитать параграф 12"
    assert old.assigned_on is None


def test_homework_reads_the_older_additional_materials() -> None:
    """§2.3: ``additional_materials`` items carry ``link`` or ``urls``."""
    old = normalize.homeworks(fixture("homeworks"))[3]
    assert [a.url for a in old.attachments] == [
        "https://school.mos.ru/ej/attachments/900001",
        "https://uchebnik.mos.ru/exam/test/training_spec/77",
    ]
    assert old.attachments[0].name == "Конспект.pdf"


def test_calendar_lessons_are_ordered_and_numbered_per_day() -> None:
    """§3.4: PLAN events only, sorted by start time, numbered within each day."""
    found = normalize.lessons(fixture("calendar_week"))
    assert [(x.date.day, x.number, x.subject) for x in found] == [
        (13, 1, "Математика"),
        (13, 2, "Английский язык"),
        (13, 3, "Русский язык"),
        (14, 1, "История"),
    ]
    maths = found[0]
    assert (maths.starts_at, maths.ends_at, maths.room) == (dt.time(8, 30), dt.time(9, 15), "214")
    assert maths.homework == ("№ 214, 217 (стр. 58)",)
    assert maths.status is LessonStatus.PLANNED


def test_replaced_and_cancelled_lessons_say_what_changed() -> None:
    """§2.4 change flags: replaced and cancelled, with the lesson comment as the note."""
    found = {x.id: x for x in normalize.lessons(fixture("calendar_week"))}
    assert (found["384410002"].status, found["384410002"].note) == (LessonStatus.REPLACED, "Замена")
    cancelled = found["384410010"]
    assert (cancelled.status, cancelled.note) == (
        LessonStatus.CANCELLED,
        "Урок перенесён на пятницу",
    )
    assert cancelled.room == "Кабинет истории"


def test_calendar_times_are_read_in_moscow_time() -> None:
    """§4.6: a UTC start becomes Moscow wall-clock time."""
    cancelled = next(x for x in normalize.lessons(fixture("calendar_week")) if x.id == "384410010")
    assert (cancelled.date, cancelled.starts_at) == (dt.date(2026, 10, 14), dt.time(8, 30))


def test_attendance_classifies_absences_with_the_parents_notices() -> None:
    """§2.5, §3.5: no reason and no notice is unexcused; reason 6 or an illness notice is ill."""
    found = normalize.attendance(
        fixture("calendar_absences"), fixture("attendance_notices"), OCTOBER
    )
    assert [(a.date.day, a.kind, a.subject, a.lesson_number) for a in found] == [
        (14, AttendanceKind.UNEXCUSED, "История", 2),
        (15, AttendanceKind.ILL, "Русский язык", 1),
        (16, AttendanceKind.EXCUSED, "Английский язык", 1),
        (17, AttendanceKind.EXCUSED, "География", 1),
        (2, AttendanceKind.ILL, None, None),
        (12, AttendanceKind.ILL, None, None),
    ]
    assert found[3].note == "семейные обстоятельства"
    # «болезнь» is only the name of reason 6 (§2.5): the page already says «болезнь»; a day
    # the journal does not show keeps the notice's summary.
    assert found[4].note == "Отсутствовал(а) весь день"


def test_an_illness_notice_that_says_more_than_its_reason_keeps_its_text() -> None:
    """§2.5: the description is the parent's text; only the reason's bare name is dropped."""
    notices = fixture("attendance_notices")
    notices["attendance"][0]["description"] = "Болезнь: ОРВИ, справка будет в пятницу"
    found = normalize.attendance(fixture("calendar_absences"), notices, OCTOBER)
    assert [a.note for a in found if a.date.day == 2] == ["Болезнь: ОРВИ, справка будет в пятницу"]


def test_attendance_notices_outside_the_period_are_left_out() -> None:
    """A notice of another month does not show in this period."""
    period = Period(start=dt.date(2026, 10, 10), end=dt.date(2026, 10, 16))
    found = normalize.attendance(
        fixture("calendar_absences"), fixture("attendance_notices"), period
    )
    assert {a.date for a in found} == {dt.date(2026, 10, d) for d in (12, 14, 15, 16)}


def test_events_are_meetings_exams_and_school_events() -> None:
    """§2.9: ORGANIZER meetings with agenda and place; cancelled events are dropped."""
    meeting, open_day, exam = normalize.events(fixture("calendar_week"))
    assert meeting.kind is EventKind.PARENT_MEETING
    assert meeting.title == "Родительское собрание 6 «Б» класса"
    assert meeting.starts_at == dt.datetime(2026, 10, 15, 18, 0, tzinfo=normalize.MSK)
    assert (meeting.place, meeting.agenda) == ("каб. 214", "1. Итоги первой четверти\n2. Разное")
    assert (open_day.kind, open_day.place, open_day.agenda) == (
        EventKind.SCHOOL_EVENT,
        "ул. Примерная, д. 1",
        None,
    )
    assert exam.kind is EventKind.EXAM


def test_rating_finds_the_child_by_person_id_in_any_case() -> None:
    """§2.6: the class list is anonymised; the child's row is found by contingent GUID."""
    found = normalize.rating(
        fixture("rating_class"), "c1d2e3f4-1111-4a2b-9c3d-000000000001", dt.date(2026, 10, 17)
    )
    assert [(r.place, r.out_of, r.as_of) for r in found] == [(2, 3, dt.date(2026, 10, 17))]


def test_rating_without_the_child_is_empty() -> None:
    """A class list without the child yields no rating rather than a guess."""
    assert normalize.rating(fixture("rating_class"), "unknown", dt.date(2026, 10, 17)) == []


def test_a_body_without_its_list_raises_key_error() -> None:
    """Schema drift surfaces as an exception the connector maps to UnexpectedResponse."""
    with pytest.raises(KeyError):
        normalize.grades({"items": []})
