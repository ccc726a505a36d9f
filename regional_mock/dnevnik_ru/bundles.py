"""Build Dnevnik.ru's bundle responses: schedules, homework, recent marks, final marks."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Iterable

from regional_mock.dnevnik_ru import catalog
from regional_mock.dnevnik_ru import persons
from regional_mock.dnevnik_ru.journal import Journal
from regional_mock.dnevnik_ru.wire import day as day_text
from regional_mock.records import Homework
from regional_mock.records import Lesson
from regional_mock.records import Mark
from regional_mock.records import Student

JSON = dict[str, t.Any]


def held_lessons(journal: Journal, student: Student, start: dt.date, end: dt.date) -> list[Lesson]:
    """Return the lessons a v2 journal shows: cancelled ones are dropped (no field for them)."""
    lessons = journal.world.lessons_of(student.id, start, end)
    return sorted((x for x in lessons if x.status != "cancelled"), key=lambda x: (x.date, x.number))


def _subjects(journal: Journal, lessons: Iterable[Lesson]) -> list[JSON]:
    seen: dict[int, JSON] = {}
    for lesson in lessons:
        seen.setdefault(journal.subject_id(lesson), journal.subject_of(lesson))
    return list(seen.values())


def _work_types(journal: Journal, type_ids: Iterable[int], school_id: int) -> list[JSON]:
    world = journal.world
    return [
        catalog.embedded_work_type(world.work_type(i), school_id) for i in sorted(set(type_ids))
    ]


def _issued_on(journal: Journal, lessons: list[Lesson]) -> list[Homework]:
    lesson_ids = {x.id for x in lessons}
    return [h for h in journal.world.homework if h.issued_lesson_id in lesson_ids]


def schedule(journal: Journal, student: Student, start: dt.date, end: dt.date) -> JSON:
    """Build ``persons/{p}/groups/{g}/schedules``: one ScheduleDay per day with lessons."""
    world = journal.world
    lessons = held_lessons(journal, student, start, end)
    every_day = sorted(
        {x.date for x in held_lessons(journal, student, world.first_day, world.last_day)}
    )
    days = []
    for current in sorted({x.date for x in lessons}):
        later = [d for d in every_day if d > current]
        days.append(_day(journal, student, current, [x for x in lessons if x.date == current]))
        days[-1]["nextDate"] = day_text(later[0]) if later else None
    return {"days": days}


def _day(journal: Journal, student: Student, current: dt.date, lessons: list[Lesson]) -> JSON:
    world = journal.world
    lesson_ids = {x.id for x in lessons}
    marks = [m for m in world.marks_of(student.id, current, current) if m.lesson_id in lesson_ids]
    issued = _issued_on(journal, lessons)
    due = list(world.homework_of(student.id, current, current))
    absences = [
        a for a in world.absences_of(student.id, current, current) if a.lesson_id in lesson_ids
    ]
    teachers = sorted({x.teacher_id for x in lessons})
    type_ids = [m.work_type_id for m in marks] + ([catalog.HOMEWORK_TYPE] if issued or due else [])
    return {
        "date": day_text(current),
        "lessons": [journal.schedule_lesson(x, student) for x in lessons],
        "marks": [journal.mark(m) for m in marks],
        "works": [journal.mark_work(m) for m in marks]
        + [journal.homework_work(h, student) for h in issued],
        "homeworks": [journal.homework_work(h, student) for h in due],
        "subjects": _subjects(journal, lessons),
        "workTypes": _work_types(journal, type_ids, student.school_id),
        "lessonLogEntries": [journal.log_entry(a) for a in absences],
        "teachers": [
            {"person": persons.person(world.teacher(i)), "role": "Teacher"} for i in teachers
        ],
        "nextDate": None,
    }


def homeworks(
    journal: Journal, student: Student, start: dt.date, end: dt.date, base_url: str
) -> JSON:
    """Build the homework bundle of the homework due in a range."""
    world = journal.world
    items = world.homework_of(student.id, start, end)
    lessons: dict[int, Lesson] = {}
    for item in items:
        for lesson_id in (item.issued_lesson_id, item.due_lesson_id):
            lessons[lesson_id] = world.lesson(lesson_id)
    bundle_lessons = []
    for lesson in sorted(lessons.values(), key=lambda x: (x.date, x.number)):
        entry = journal.schedule_lesson(lesson, student)
        entry["teachers_str"] = [str(i) for i in entry["teachers"]]
        bundle_lessons.append(entry)
    teachers = sorted({h.teacher_id for h in items})
    return {
        "works": [journal.homework_work(h, student) for h in items],
        "subjects": _subjects(journal, lessons.values()),
        "lessons": bundle_lessons,
        "files": [journal.file(a, base_url) for h in items for a in h.attachments],
        "teachers": [persons.person(world.teacher(i)) for i in teachers],
    }


def recent_marks(journal: Journal, student: Student, marks: list[Mark]) -> JSON:
    """Build the ``recentmarks`` bundle around some marks."""
    world = journal.world
    lessons = {m.lesson_id: world.lesson(m.lesson_id) for m in marks}
    absences = world.absences_of(student.id, world.first_day, world.last_day)
    return {
        "marks": [journal.mark(m) for m in marks],
        "criteriabasedmarks": [],
        "works": [journal.mark_work(m) for m in marks],
        "subjects": _subjects(journal, lessons.values()),
        "workTypes": _work_types(journal, [m.work_type_id for m in marks], student.school_id),
        "lessons": [journal.lesson(x, student) for x in lessons.values()],
        "lessonLogEntries": [journal.log_entry(a) for a in absences if a.lesson_id in lessons],
    }


def latest_marks(
    journal: Journal, student: Student, until: dt.date, subject: int | None, limit: int
) -> list[Mark]:
    """Return the newest marks up to a day: ``limit`` in all, or per subject without one."""
    world = journal.world
    marks = sorted(
        world.marks_of(student.id, world.first_day, until),
        key=lambda m: (m.date, m.id),
        reverse=True,
    )
    counts: dict[int, int] = {}
    rv = []
    for mark in marks:
        key = journal.subject_id(world.lesson(mark.lesson_id))
        if subject is not None and key != subject:
            continue
        if counts.get(key, 0) < limit:
            counts[key] = counts.get(key, 0) + 1
            rv.append(mark)
    return rv


def average(journal: Journal, marks: Iterable[Mark]) -> float | None:
    """Return the weighted average of the numeric marks, to two decimals; None if none."""
    world = journal.world
    total = weights = 0
    for mark in marks:
        if mark.kind == "numeric" and mark.value is not None:
            weight = catalog.weight(world.work_type(mark.work_type_id))
            total += mark.value * weight
            weights += weight
    return round(total / weights, 2) if weights else None
