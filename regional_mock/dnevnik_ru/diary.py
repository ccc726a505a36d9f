"""Dnevnik.ru API v2: marks, averages, schedules, lessons, homework, attendance, files."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.dnevnik_ru import bundles
from regional_mock.dnevnik_ru import catalog
from regional_mock.dnevnik_ru import ids
from regional_mock.dnevnik_ru.directory import require_group
from regional_mock.dnevnik_ru.directory import require_school
from regional_mock.dnevnik_ru.journal import Journal
from regional_mock.dnevnik_ru.wire import emulator
from regional_mock.dnevnik_ru.wire import fail
from regional_mock.dnevnik_ru.wire import parse_day
from regional_mock.dnevnik_ru.wire import parse_range
from regional_mock.dnevnik_ru.wire import require_id
from regional_mock.dnevnik_ru.wire import require_student
from regional_mock.dnevnik_ru.wire import require_token
from regional_mock.records import Lesson
from regional_mock.records import Mark
from regional_mock.records import Student

bp = Blueprint("dnevnik_diary", __name__)
EDU = "EducationalInfo"
STATUSES = ["Attend", "Absent", "Ill", "Late", "Pass"]


def make_journal() -> Journal:
    """Return the renderer over the app's world."""
    state = emulator()
    return Journal(world=state.world, subjects=state.subjects)


def child(person: str) -> Student:
    """Return the token's child with a person id (EducationalInfo needed), or abort."""
    return require_student(require_token(EDU), person)


def _marks(student: Student, start: dt.date, end: dt.date) -> list[Mark]:
    """Return a child's marks of lessons in a range (the world's dot marks have no place here)."""
    marks = emulator().world.marks_of(student.id, start, end)
    return [m for m in marks if m.kind != "dot"]


def subject_name(student: Student, raw: str) -> str:
    """Return the name of a subject of the child's school, or abort with resourceUnavailable."""
    course_id = require_id("subject", raw)
    subjects = emulator().subjects
    found = [name for (school, name), i in subjects.items() if i == course_id]
    if not found or subjects.get((student.school_id, found[0])) != course_id:
        fail("resourceUnavailable", f"Subject {raw} not found")
    return found[0]


def lesson_of(student: Student, raw: str) -> Lesson:
    """Return a lesson of the child's class, or abort."""
    lesson_id = require_id("lesson", raw)
    world = emulator().world
    try:
        lesson = world.lesson(lesson_id)
    except KeyError:
        fail("resourceUnavailable", f"Lesson {raw} not found")
    if lesson.class_id != student.class_id:
        fail("notOwner")
    return lesson


def _rendered(marks: list[Mark]) -> Response:
    journal = make_journal()
    return jsonify([journal.mark(m) for m in marks])


@bp.get("/persons/<person>/schools/<school>/marks/<start>/<end>")
def marks_by_school(person: str, school: str, start: str, end: str) -> Response:
    """List a child's marks of lessons held in a range, all subjects."""
    student = child(person)
    require_school(require_token(EDU), school)
    first, last = parse_range(start, end, ("from", "to"))
    return _rendered(_marks(student, first, last))


@bp.get("/persons/<person>/edu-groups/<group>/marks/<start>/<end>")
def marks_by_group(person: str, group: str, start: str, end: str) -> Response:
    """List a child's marks within one group."""
    student = child(person)
    found = require_group(require_token(EDU), group)
    first, last = parse_range(start, end, ("from", "to"))
    marks = _marks(student, first, last) if found.id == student.class_id else []
    return _rendered(marks)


@bp.get("/persons/<person>/subjects/<subject>/marks/<start>/<end>")
def marks_by_subject(person: str, subject: str, start: str, end: str) -> Response:
    """List a child's marks in one subject."""
    student = child(person)
    name = subject_name(student, subject)
    first, last = parse_range(start, end, ("from", "to"))
    return _rendered([m for m in _marks(student, first, last) if m.subject == name])


@bp.get("/persons/<person>/marks/<date>")
@bp.get("/lessons/<date>/persons/<person>/marks")
def marks_of_day(person: str, date: str) -> Response:
    """List the marks set on a day (set the same day as the lesson here)."""
    student = child(person)
    current = parse_day(date, "date")
    return _rendered(_marks(student, current, current))


@bp.get("/persons/<person>/lessons/<lesson>/marks")
def marks_of_lesson(person: str, lesson: str) -> Response:
    """List a child's marks of one lesson."""
    student = child(person)
    found = lesson_of(student, lesson)
    return _rendered(
        [m for m in _marks(student, found.date, found.date) if m.lesson_id == found.id]
    )


@bp.get("/persons/<person>/works/<work>/marks")
def marks_of_work(person: str, work: str) -> Response:
    """List a child's marks for one work."""
    student = child(person)
    work_id = require_id("work", work)
    world = emulator().world
    return _rendered(
        [m for m in _marks(student, world.first_day, world.last_day) if m.id == work_id]
    )


@bp.get("/marks/<mark>")
def mark(mark: str) -> Response:
    """Describe one mark of a child."""
    token = require_token(EDU)
    mark_id = require_id("mark", mark)
    world = emulator().world
    try:
        found = world.mark(mark_id)
    except KeyError:
        fail("resourceUnavailable", f"Mark {mark} not found")
    if found.student_id not in token.account.student_ids:
        fail("notOwner")
    return jsonify(make_journal().mark(found))


@bp.get("/persons/<person>/group/<group>/recentmarks")
def recent_marks(person: str, group: str) -> Response:
    """Bundle the newest marks up to ``fromDate``; ``limit`` (1–100) per subject."""
    student = child(person)
    require_group(require_token(EDU), group)
    raw_from = request.args.get("fromDate")
    until = parse_day(raw_from, "fromDate") if raw_from else emulator().world.today
    raw_limit = request.args.get("limit", "10")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        fail("parameterInvalid", "Parameter 'limit' must be between 1 and 100")
    raw_subject = request.args.get("subject")
    subject = ids.encode("subject", require_id("subject", raw_subject)) if raw_subject else None
    journal = make_journal()
    marks = bundles.latest_marks(journal, student, until, subject, int(raw_limit))
    return jsonify(bundles.recent_marks(journal, student, marks))


def _period(raw: str) -> catalog.Period:
    found = catalog.period_by_id(require_id("period", raw))
    if found is None:
        fail("resourceUnavailable", f"Reporting period {raw} not found")
    return found


@bp.get("/persons/<person>/reporting-periods/<period>/avg-mark")
@bp.get("/persons/<person>/reporting-periods/<period>/subjects/<subject>/avg-mark")
def avg_mark(person: str, period: str, subject: str | None = None) -> Response:
    """Answer the weighted average as a bare JSON scalar (``null`` without marks)."""
    student = child(person)
    found = _period(period)
    marks = _marks(student, found.start, found.finish)
    if subject is not None:
        name = subject_name(student, subject)
        marks = [m for m in marks if m.subject == name]
    return jsonify(bundles.average(make_journal(), marks))


@bp.get("/persons/<person>/edu-groups/<group>/allfinalmarks")
def all_final_marks(person: str, group: str) -> Response:
    """Bundle the period marks: the world's month has none yet, so only the subjects."""
    child(person)
    found = require_group(require_token(EDU), group)
    index = emulator().subjects
    names = sorted({c.subject for c in emulator().world.courses if c.class_id == found.id})
    subjects = [catalog.subject(index[(found.school_id, n)], n) for n in names]
    return jsonify({"marks": [], "works": [], "subjects": subjects, "workTypes": []})


@bp.get("/persons/<person>/edu-groups/<group>/final-marks")
def final_marks(person: str, group: str) -> Response:
    """List per-subject final marks: none in the world's month."""
    child(person)
    require_group(require_token(EDU), group)
    return jsonify([])


@bp.get("/persons/<person>/groups/<group>/schedules")
def schedules(person: str, group: str) -> Response:
    """Bundle lessons, marks, homework and attendance per day of ``startDate``–``endDate``."""
    student = child(person)
    found = require_group(require_token(EDU), group)
    start, end = parse_range(
        request.args.get("startDate"), request.args.get("endDate"), ("startDate", "endDate")
    )
    if found.id != student.class_id:
        return jsonify({"days": []})
    return jsonify(bundles.schedule(make_journal(), student, start, end))


@bp.get("/lessons/<lesson>")
def lesson(lesson: str) -> Response:
    """Describe a lesson of a child's class with its works."""
    token = require_token(EDU)
    lesson_id = require_id("lesson", lesson)
    world, journal = emulator().world, make_journal()
    for student in world.students_of(token.account):
        held = bundles.held_lessons(journal, student, world.first_day, world.last_day)
        if lesson_id in {x.id for x in held}:
            return jsonify(journal.lesson(world.lesson(lesson_id), student))
    fail("resourceUnavailable", f"Lesson {lesson} not found")


@bp.get("/edu-groups/<group>/lessons/<start>/<end>")
def group_lessons(group: str, start: str, end: str) -> Response:
    """List a class's lessons held in a range."""
    token = require_token(EDU)
    found = require_group(token, group)
    first, last = parse_range(start, end, ("from", "to"))
    world = emulator().world
    student = next(s for s in world.students_of(token.account) if s.class_id == found.id)
    journal = make_journal()
    return jsonify(
        [journal.lesson(x, student) for x in bundles.held_lessons(journal, student, first, last)]
    )


@bp.get("/persons/<person>/school/<school>/homeworks")
def homeworks(person: str, school: str) -> Response:
    """Bundle the homework due in ``startDate``–``endDate`` for a child."""
    student = child(person)
    require_school(require_token(EDU), school)
    start, end = parse_range(
        request.args.get("startDate"), request.args.get("endDate"), ("startDate", "endDate")
    )
    base = request.host_url.rstrip("/")
    return jsonify(bundles.homeworks(make_journal(), student, start, end, base))


@bp.get("/persons/<person>/tasks")
def tasks(person: str) -> Response:
    """List a child's homework tasks due in ``from``–``to``, paged."""
    student = child(person)
    start, end = parse_range(request.args.get("from"), request.args.get("to"), ("from", "to"))
    page, size = request.args.get("pageNumber", "1"), request.args.get("pageSize", "20")
    if not (page.isdigit() and size.isdigit() and int(page) >= 1 and int(size) >= 1):
        fail("parameterInvalid", "Parameters 'pageNumber' and 'pageSize' must be positive")
    journal = make_journal()
    items = emulator().world.homework_of(student.id, start, end)
    raw_subject = request.args.get("subject")
    if raw_subject:
        items = tuple(h for h in items if h.subject == subject_name(student, raw_subject))
    first = (int(page) - 1) * int(size)
    return jsonify([journal.task(h, student) for h in items[first : first + int(size)]])
