"""Pure functions from world records to NetSchool's JSON shapes (reference note §2–§3)."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import typing as t

from regional_mock.netschool.wire import iso
from regional_mock.netschool.wire import short_person
from regional_mock.netschool.wire import stamp
from regional_mock.netschool.wire import term_name
from regional_mock.records import Attachment
from regional_mock.records import Event
from regional_mock.records import Homework
from regional_mock.records import Lesson
from regional_mock.records import Mark
from regional_mock.records import Message
from regional_mock.records import Student
from regional_mock.world import World

JSON = dict[str, t.Any]
HOMEWORK_TYPE = 3
# Absence kinds of the world -> NetSchool's attendance codes (note §2.12).
ATTENDANCE = {"ill": "Б", "unexcused": "НП", "excused": "УП", "late": "ОП", "absent": "ОТ"}


def served_lessons(world: World, student: Student, start: dt.date, end: dt.date) -> list[Lesson]:
    """Return the lessons the diary shows: a cancelled lesson simply disappears."""
    return [x for x in world.lessons_of(student.id, start, end) if x.status != "cancelled"]


def diary(world: World, student: Student, start: dt.date, end: dt.date, *, zero: bool) -> JSON:
    """Build ``student/diary`` for a range; days without lessons are left out."""
    lessons = served_lessons(world, student, start, end)
    homework = {h.due_lesson_id: h for h in world.homework_of(student.id, start, end)}
    marks: dict[int, list[Mark]] = {}
    for mark in world.marks_of(student.id, start, end):
        marks.setdefault(mark.lesson_id, []).append(mark)
    days = []
    for day, group in itertools.groupby(lessons, key=lambda x: x.date):
        items = [_lesson(x, homework.get(x.id), marks.get(x.id, []), zero) for x in group]
        days.append({"date": iso(day), "lessons": items})
    return {
        "weekStart": iso(start),
        "weekEnd": iso(end),
        "weekDays": days,
        "laAssigns": [],
        "termName": term_name(start),
        "className": world.class_of(student.id).short_name,
    }


def _lesson(lesson: Lesson, homework: Homework | None, marks: list[Mark], zero: bool) -> JSON:
    assignments = [homework_assignment(homework, zero)] if homework else []
    assignments += [mark_assignment(mark, zero) for mark in marks]
    return {
        "classmeetingId": lesson.id,
        "day": iso(lesson.date),
        "number": lesson.number,
        "relay": 1,
        "room": lesson.room,
        "startTime": lesson.starts_at,
        "endTime": lesson.ends_at,
        "subjectName": lesson.subject,
        "isEaLesson": False,
        "isDistanceLesson": False,
        "assignments": assignments,
    }


def homework_assignment(homework: Homework, zero: bool) -> JSON:
    """Render homework as the typeId-3 assignment of the lesson it is due on."""
    return {
        "id": homework.id,
        "typeId": HOMEWORK_TYPE,
        "assignmentName": homework.text,
        "weight": 0 if zero else 10,
        "dueDate": iso(homework.due_on),
        "classAssignment": True,
        "classMeetingId": homework.due_lesson_id,
        "issueClassMeetingId": homework.issued_lesson_id,
    }


def mark_assignment(mark: Mark, zero: bool) -> JSON:
    """Render a mark inside its assignment; a dot is ``mark: null`` with ``dutyMark``."""
    value: int | str | None = mark.value
    if mark.kind == "text":
        value = mark.shown
    item: JSON = {
        "id": mark.id,
        "typeId": mark.work_type_id,
        "assignmentName": mark.topic,
        "weight": 0 if zero else mark.weight,
        "dueDate": iso(mark.date),
        "classAssignment": False,
        "classMeetingId": mark.lesson_id,
        "mark": {
            "id": 0,
            "studentId": mark.student_id,
            "mark": value,
            "resultScore": None,
            "dutyMark": mark.kind == "dot",
            "assignmentId": mark.id,
        },
    }
    if mark.comment:
        item["markComment"] = {"name": mark.comment}
    return item


def past_mandatory(world: World, student: Student, end: dt.date) -> list[JSON]:
    """List the owed (dotted) work dated before today and no later than ``end``."""
    last = min(end, world.today - dt.timedelta(days=1))
    return [
        {
            "id": mark.id,
            "typeId": mark.work_type_id,
            "subjectName": mark.subject,
            "assignmentName": mark.topic,
            "weight": mark.weight,
            "dueDate": iso(mark.date),
            "classMeetingId": mark.lesson_id,
        }
        for mark in world.marks_of(student.id, world.first_day, last)
        if mark.kind == "dot"
    ]


def attachment(item: Attachment) -> JSON:
    """Render attachment metadata."""
    return {
        "id": item.id,
        "name": item.name,
        "originalFileName": item.name,
        "description": item.description,
    }


def card(world: World, student: Student, assignment_id: int) -> JSON | None:
    """Build ``assigns/{id}``: the card with teachers and the real weight; None if unseen."""
    school_class = world.class_of(student.id)
    try:
        mark = world.mark(assignment_id)
    except KeyError:
        mark = None
    if mark is not None and mark.student_id == student.id:
        lesson = world.lesson(mark.lesson_id)
        name, weight, text, files = mark.topic, mark.weight, mark.description, ()
    else:
        try:
            homework = world.homework_item(assignment_id)
        except KeyError:
            return None
        if homework.class_id != school_class.id:
            return None
        lesson = world.lesson(homework.due_lesson_id)
        name, weight, text, files = homework.text, 10, None, homework.attachments
    course = world.course(lesson.course_id)
    group = school_class.short_name.lower()
    return {
        "id": assignment_id,
        "assignmentName": name,
        "activityName": None,
        "problemName": None,
        "subjectGroup": {"id": course.id, "name": f"{group}/{course.subject}"},
        "teachers": [{"id": lesson.teacher_id, "name": world.teacher(lesson.teacher_id).full_name}],
        "productId": None,
        "isDeleted": False,
        "weight": weight,
        "date": iso(lesson.date),
        "description": text,
        "attachments": [attachment(a) for a in files],
        "contentElements": None,
        "codeContentElements": None,
    }


def _twice_escaped(text: str) -> str:
    # Captured descriptions escape their entities twice: &amp;#160;, &amp;quot; (note §2.8).
    once = html.escape(text).replace(" в ", " в&#160;")
    return once.replace("&", "&amp;")


def _author(world: World, teacher_id: int) -> JSON:
    name = world.teacher(teacher_id).full_name
    return {"id": teacher_id, "fio": name, "nickName": short_person(name)}


def event_announcement(world: World, event: Event) -> JSON:
    """Render a parent meeting or school event as an announcement."""
    when = event.starts_at.strftime("%d.%m.%Y в %H:%M")
    parts = [f"<p>{_twice_escaped(f'{event.title} состоится {when}, {event.place}.')}</p>"]
    if event.agenda:
        items = "".join(f"<li>{_twice_escaped(item)}</li>" for item in event.agenda)
        parts.append(f"<p>{_twice_escaped('Повестка:')}</p><ol>{items}</ol>")
    body = "".join(parts)
    return _announcement(world, event.id, event.title, body, event.posted_at, event.author_id)


def message_announcement(world: World, item: Message) -> JSON:
    """Render a teacher's message as an announcement (NetSchool has no acknowledgement)."""
    body = f"<p>{_twice_escaped(item.body)}</p>"
    return _announcement(world, item.id, item.subject, body, item.sent_at, item.sender_id)


def _announcement(
    world: World, item_id: int, name: str, description: str, posted: dt.datetime, author: int
) -> JSON:
    return {
        "id": item_id,
        "name": name,
        "description": description,
        "postDate": stamp(posted),
        "deleteDate": None,
        "author": _author(world, author),
        "em": None,
        "recipientInfo": None,
        "attachments": [],
    }


def class_meeting(world: World, lesson: Lesson, student: Student, attendance: str | None) -> JSON:
    """Render a lesson for the mobile ``classmeetings`` list."""
    homework = [h.id for h in world.homework_of(student.id, lesson.date, lesson.date)]
    due_here = [h for h in homework if world.homework_item(h).due_lesson_id == lesson.id]
    marks = [m.id for m in world.marks_of(student.id, lesson.date, lesson.date)]
    graded = [m for m in marks if world.mark(m).lesson_id == lesson.id]
    day = lesson.date.isoformat()
    return {
        "classmeetingId": lesson.id,
        "day": iso(lesson.date),
        "startTime": f"{day}T{lesson.starts_at}:00",
        "endTime": f"{day}T{lesson.ends_at}:00",
        "scheduleTimeNumber": lesson.number,
        "scheduleTimeRelay": 1,
        "subjectName": lesson.subject,
        "subjectGroupId": lesson.course_id,
        "roomName": lesson.room,
        "teachers": [{"id": lesson.teacher_id, "name": world.teacher(lesson.teacher_id).full_name}],
        "lessonTheme": lesson.theme,
        "attendance": attendance,
        "assignmentId": due_here + graded,
        "distanceMeetingId": None,
        "extraActivity": False,
        "addEducation": False,
    }
