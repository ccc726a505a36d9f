"""Turn world records into MESH bodies: marks, homework, calendar events, timetable lessons."""

from __future__ import annotations

import datetime as dt
import mimetypes
import typing as t

from flask import request

from regional_mock.mesh.ids import guid
from regional_mock.mesh.ids import split_name
from regional_mock.mesh.ids import subject_id
from regional_mock.mesh.wire import at
from regional_mock.mesh.wire import class_name
from regional_mock.mesh.wire import emulator
from regional_mock.mesh.wire import naive
from regional_mock.mesh.wire import with_offset
from regional_mock.records import Absence
from regional_mock.records import Attachment
from regional_mock.records import Event
from regional_mock.records import Homework
from regional_mock.records import Lesson
from regional_mock.records import Mark
from regional_mock.records import Student

BUILDING = "ул. Академика Пилюгина, д. 8"
GRADE_SYSTEM_ID = 4139946
CONTROL_FORMS = {"Тестирование": "Тест", "Работа на уроке": "Учебное задание"}
# absence kind -> (is_missed_lesson, absence_reason_id); codes are undocumented (§2.5):
# 6 matches the parent-notice code of illness, 2 stands for another valid reason.
ABSENCE_CODES = {"ill": (True, 6), "excused": (True, 2), "unexcused": (True, None)}


def mesh_weight(world_weight: int) -> int:
    """Map the world's 10/20/40 weights onto MESH's coefficients 1/1/2 (§2.1)."""
    return max(1, world_weight // 20)


def room(lesson: Lesson) -> tuple[str | None, str | None]:
    """Split the world's «301/кабинет математики» into MESH's room number and name."""
    if not lesson.room:
        return None, None
    number, _, name = lesson.room.partition("/")
    if name:
        return number, name.capitalize()
    return (number, f"Кабинет {number}") if number.isdigit() else (None, number.capitalize())


def mark(item: Mark) -> dict[str, t.Any]:
    """Return a mark of ``/marks`` (§2.1, §3.2); text marks have ``values: null``."""
    em = emulator()
    lesson = em.world.lesson(item.lesson_id)
    created = at(item.date, lesson.ends_at) + dt.timedelta(minutes=5 + item.id % 40)
    weight = mesh_weight(item.weight)
    values = None
    if item.kind == "numeric" and item.value is not None:
        grade = {"origin": item.shown, "five": float(item.value), "hundred": item.value * 20.0}
        values = [
            {
                "name": "5-балльная",
                "nmax": 5.0,
                "grade": grade,
                "grade_system_id": GRADE_SYSTEM_ID,
                "grade_system_type": "five",
            }
        ]
    return {
        "id": em.ids.mark_id(item.id),
        "value": item.shown,
        "values": values,
        "comment": item.comment or "",
        "weight": weight,
        "point_date": None,
        "control_form_name": CONTROL_FORMS.get(item.work_type, item.work_type),
        "comment_exists": bool(item.comment),
        "created_at": naive(created),
        "updated_at": naive(created),
        "criteria": None,
        "date": item.date.isoformat(),
        "subject_name": item.subject,
        "subject_id": subject_id(item.subject),
        "has_files": False,
        "is_point": False,
        "is_exam": weight >= 2,
        "original_grade_system_type": "five" if values else None,
    }


def event_mark(item: Mark) -> dict[str, t.Any]:
    """Return a mark as the event calendar nests it in a lesson (§2.4 a)."""
    body = mark(item)
    keys = ("id", "value", "values", "weight", "comment", "comment_exists", "control_form_name")
    keys += ("is_exam", "is_point", "point_date", "criteria", "original_grade_system_type")
    return {k: body[k] for k in keys}


def attachment_url(item: Attachment) -> str:
    """Return the download URL of an attachment on this emulator."""
    return f"{request.host_url}ej/attachments/{item.id}"


def material(item: Attachment) -> dict[str, t.Any]:
    """Return a file of homework as a ``materials[]`` item (§2.3)."""
    return {
        "uuid": guid("attachment", item.id),
        "type": "attachments",
        "selected_mode": "learn",
        "type_name": "Вложения",
        "id": item.id,
        "urls": [{"url": attachment_url(item), "type": "attachment"}],
        "description": item.description,
        "content_type": mimetypes.guess_type(item.name)[0] or "application/octet-stream",
        "title": item.name,
        "action_id": 1,
        "action_name": "Изучить",
    }


def is_done(student: Student, item: Homework) -> bool:
    """Return the family's tick, else a deterministic one for homework already due."""
    em = emulator()
    tick = em.state.is_done(student.id, item.id)
    if tick is not None:
        return tick
    return item.due_on <= em.world.today and item.id % 4 != 0


def homework(student: Student, item: Homework) -> dict[str, t.Any]:
    """Return one homework of ``/homeworks`` (§2.3, §3.3)."""
    em = emulator()
    ids, world = em.ids, em.world
    issued, due = world.lesson(item.issued_lesson_id), world.lesson(item.due_lesson_id)
    created = at(item.assigned_on, issued.ends_at) + dt.timedelta(minutes=item.id % 50)
    past = item.due_on <= world.today
    return {
        "type": "oo",
        "description": item.text,
        "comments": [],
        "materials": [material(a) for a in item.attachments],
        "homework": item.text,
        "homework_entry_student_id": ids.homework_entry_student_id(item.id, student),
        "attachments": [],
        "subject_id": subject_id(item.subject),
        "group_id": ids.group_id(issued.course_id),
        "date": item.due_on.isoformat(),
        "date_assigned_on": item.assigned_on.isoformat(),
        "subject_name": item.subject,
        "lesson_date_time": naive(at(due.date, due.starts_at)),
        "is_done": is_done(student, item),
        "has_teacher_answer": False if past else None,
        "homework_id": ids.homework_id(item.id),
        "homework_entry_id": ids.homework_entry_id(item.id),
        "homework_created_at": naive(created),
        "homework_updated_at": naive(created),
        "written_answer": None,
        "date_prepared_for": item.due_on.isoformat(),
    }


def due_at(student: Student, lesson: Lesson) -> list[Homework]:
    """Return the homework due at a lesson."""
    return [
        h
        for h in emulator().world.homework_of(student.id, lesson.date, lesson.date)
        if h.due_lesson_id == lesson.id
    ]


def event_homework(student: Student, lesson: Lesson) -> dict[str, t.Any]:
    """Return the ``homework`` summary of a calendar lesson."""
    items = due_at(student, lesson)
    files = [a for h in items for a in h.attachments]
    entries = [
        {
            "homework_entry_id": emulator().ids.homework_entry_id(h.id),
            "date_assigned_on": h.assigned_on.isoformat(),
            "date_prepared_for": h.due_on.isoformat(),
            "description": h.text,
            "duration": 20,
            "materials": None,
            "attachment_ids": [a.id for a in h.attachments],
            "attachments": [material(a) for a in h.attachments],
            "student_ids": [emulator().ids.student_profile_id(student)],
        }
        for h in items
    ]
    counts = {"count_execute": 0, "count_learn": len(files), "count_homework": 0}
    return {
        "presence_status_id": 1 if items else 0,
        "total_count": len(items),
        "execute_count": sum(is_done(student, h) for h in items),
        "descriptions": [h.text for h in items],
        "link_types": None,
        "materials": counts if items else None,
        "entries": entries,
    }


def lesson_event(
    student: Student, lesson: Lesson, expand: set[str], absence: Absence | None
) -> dict[str, t.Any]:
    """Return a timetable lesson as an event calendar ``PLAN`` event (§2.4 a, §3.4)."""
    em = emulator()
    ids, world = em.ids, em.world
    cls = world.school_class(lesson.class_id)
    number, name = room(lesson)
    replaced = lesson.status == "replaced"
    item_id = ids.schedule_item_id(lesson.id)
    body: dict[str, t.Any] = {
        "id": item_id,
        "source": "PLAN",
        "source_id": str(item_id),
        "start_at": with_offset(at(lesson.date, lesson.starts_at)),
        "finish_at": with_offset(at(lesson.date, lesson.ends_at)),
        "is_all_day": False,
        "cancelled": lesson.status == "cancelled",
        "replaced": replaced,
        "replaced_teacher_id": ids.teacher_id(lesson.planned_teacher_id or 0) if replaced else None,
        "lesson_type": "NORMAL",
        "course_lesson_type": None,
        "lesson_form": None,
        "lesson_education_type": "OO",
        "lesson_name": lesson.theme,
        "lesson_theme": None,
        "subject_id": subject_id(lesson.subject),
        "subject_name": lesson.subject,
        "group_id": ids.group_id(lesson.course_id),
        "group_name": f"{lesson.subject} {class_name(cls.grade, cls.letter)}",
        "class_unit_ids": [ids.class_unit_id(cls.id)],
        "room_name": name,
        "room_number": number,
        "building_name": BUILDING,
        "link_to_join": None,
        "esz_field_id": None,
        "comment": lesson.note,
    }
    return body | _expanded(student, lesson, expand, absence)


def _expanded(
    student: Student, lesson: Lesson, expand: set[str], absence: Absence | None
) -> dict[str, t.Any]:
    """Return the fields an event gets from ``expand`` (attendance, homework, marks)."""
    body: dict[str, t.Any] = {}
    if "absence_reason_id" in expand:
        missed, reason = ABSENCE_CODES.get(absence.kind if absence else "", (False, None))
        body |= {"is_missed_lesson": missed, "absence_reason_id": reason}
    if "nonattendance_reason_id" in expand:
        body["nonattendance_reason_id"] = None
    if "health_status" in expand:
        body["health_status"] = None
    if "homework" in expand:
        body["homework"] = event_homework(student, lesson)
    if "marks" in expand:
        marks = [
            m
            for m in emulator().world.marks_of(student.id, lesson.date, lesson.date)
            if m.lesson_id == lesson.id
        ]
        body["marks"] = [event_mark(m) for m in marks]
    return body


def school_event(item: Event) -> dict[str, t.Any]:
    """Return a parent meeting (``ORGANIZER``) or school event (``EVENTS``) (§2.9)."""
    em = emulator()
    author = em.world.teacher(item.author_id)
    agenda = "\n".join(f"{i}. {point}" for i, point in enumerate(item.agenda, start=1))
    event_id = em.ids.event_id(item.id)
    return {
        "id": event_id,
        "source": "ORGANIZER" if item.kind == "parent_meeting" else "EVENTS",
        "source_id": str(event_id),
        "start_at": with_offset(item.starts_at),
        "finish_at": with_offset(item.starts_at + dt.timedelta(hours=1)),
        "is_all_day": False,
        "created_at": with_offset(item.posted_at.replace(microsecond=0)),
        "updated_at": with_offset(item.posted_at.replace(microsecond=0)),
        "title": item.title,
        "description": f"Повестка:\n{agenda}" if agenda else None,
        "place": item.place,
        "author_id": str(em.ids.teacher_id(author.id)),
        "author_name": author.full_name,
        "contact_name": author.full_name,
        "contact_phone": None,
        "contact_email": None,
        "conference_link": None,
        "registration_start_at": None,
        "registration_end_at": None,
        "need_document": False,
        "outdoor": False,
        "types": None,
        "type": None,
        "url": None,
        "cancelled": False,
        "replaced": False,
    }


def teacher(teacher_id: int) -> dict[str, t.Any]:
    """Return a lesson's ``teacher`` object."""
    last, first, middle = split_name(emulator().world.teacher(teacher_id).full_name)
    return {
        "last_name": last,
        "first_name": first,
        "middle_name": middle,
        "birth_date": None,
        "sex": None,
        "user_id": None,
    }
