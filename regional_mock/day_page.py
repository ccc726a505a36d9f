"""The school day's development page (``templates/school_day.html``, Russian only)."""

from __future__ import annotations

import datetime as dt

from flask import render_template

from regional_mock.records import Student
from regional_mock.school_day import ABSENCE_KINDS
from regional_mock.school_day import DEFAULT_WORK_TYPE
from regional_mock.school_day import HOMEWORK_TYPE
from regional_mock.school_day import SchoolDay

KIND_NAMES = {
    "ill": "по болезни",
    "unexcused": "без причины",
    "excused": "по уважительной",
    "late": "опоздание",
}
STATUS_NAMES = {"planned": "", "replaced": " — замена", "cancelled": " — отменён"}


def render_page(day: SchoolDay, student: Student, *, notice: str | None, error: str | None) -> str:
    """Render the page for one child: held lessons of two weeks back, coming ones of a week."""
    world = day.world
    today = world.today
    start, end = today - dt.timedelta(days=14), today + dt.timedelta(days=7)
    lessons = [
        x for x in day.lessons.values() if x.class_id == student.class_id and start <= x.date <= end
    ]
    marks = sorted(
        (m for m in world.marks_of(student.id, start, today)),
        key=lambda m: (m.date, m.id),
        reverse=True,
    )
    school_class = world.class_of(student.id)
    return render_template(
        "school_day.html",
        day=day,
        today=today,
        students=day.students(),
        student=student,
        school_class=school_class,
        school=world.school_of(student.id),
        coming=[x for x in lessons if x.date >= today],
        held=[x for x in lessons if x.date <= today and x.status != "cancelled"][::-1],
        marks=marks,
        default_work_type=DEFAULT_WORK_TYPE,
        work_types=[w for w in world.work_types if w.active and w.id != HOMEWORK_TYPE],
        kinds=ABSENCE_KINDS,
        kind_names=KIND_NAMES,
        status_names=STATUS_NAMES,
        courses=[c for c in world.courses if c.class_id == school_class.id],
        teachers=[x for x in world.teachers if x.school_id == school_class.school_id],
        edits=day.edits(),
        notice=notice,
        error=error,
    )
