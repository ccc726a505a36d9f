"""Pick lessons of the fixed-date world for the school-day tests."""

from __future__ import annotations

import datetime as dt

from regional_mock.records import Lesson
from regional_mock.world import World


def held_lesson(world: World, full_name: str, days_back: int = 1) -> Lesson:
    """Return the first planned lesson of a child ``days_back`` school days before today."""
    student = world.student_by_name(full_name)
    lessons = world.lessons_of(student.id, world.first_day, world.today - dt.timedelta(days=1))
    days = sorted({x.date for x in lessons if x.status == "planned"})
    day = days[-days_back]
    return next(x for x in lessons if x.date == day and x.status == "planned")


def coming_lesson(world: World, full_name: str) -> Lesson:
    """Return a planned lesson of a child after the coming week's generated changes."""
    student = world.student_by_name(full_name)
    start = world.today + dt.timedelta(days=8)
    lessons = world.lessons_of(student.id, start, world.last_day)
    return next(x for x in lessons if x.status == "planned" and x.number == 2)


def other_subject(world: World, lesson: Lesson) -> str:
    """Return a subject of the lesson's class other than the lesson's own."""
    return next(
        c.subject
        for c in world.courses
        if c.class_id == lesson.class_id and c.subject != lesson.subject
    )
