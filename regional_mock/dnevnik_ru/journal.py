"""Render the world's month as Dnevnik.ru's Marks, Works, Lessons and lesson-log entries."""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from regional_mock.dnevnik_ru import catalog
from regional_mock.dnevnik_ru import ids
from regional_mock.dnevnik_ru.wire import at
from regional_mock.dnevnik_ru.wire import stamp
from regional_mock.records import Absence
from regional_mock.records import Attachment
from regional_mock.records import Homework
from regional_mock.records import Lesson
from regional_mock.records import Mark
from regional_mock.records import Student
from regional_mock.world import World

JSON = dict[str, t.Any]
# World absence kinds -> lesson-log statuses (note §2.10).
STATUS = {"ill": "Ill", "unexcused": "Absent", "excused": "Pass", "late": "Late"}
MOOD = {5: "Good", 4: "Good", 3: "Average", 2: "Bad", 1: "Bad"}
TEXT_MOOD = {"зч": "Good", "нз": "Bad", "н/а": "Bad"}


def _moment(day: dt.date, hhmm: str, salt: int, minutes: int) -> dt.datetime:
    """Return a deterministic time ``minutes``-ish after ``hhmm``, with milliseconds."""
    base = dt.datetime.combine(day, dt.time.fromisoformat(hhmm))
    return base + dt.timedelta(
        minutes=minutes + salt % 90, seconds=salt % 60, milliseconds=salt % 997
    )


def _floor(room: str | None) -> str:
    return room[0] if room and room[0].isdigit() else ""


@dataclass(frozen=True)
class Journal:
    """Render records of one world; ``subjects`` maps (school, name) to a subject's world id."""

    world: World
    subjects: dict[tuple[int, str], int]

    def subject_id(self, lesson: Lesson) -> int:
        """Return a lesson's Dnevnik.ru subject id (of the subject actually taught)."""
        school_id = self.world.school_class(lesson.class_id).school_id
        return ids.encode("subject", self.subjects[(school_id, lesson.subject)])

    def subject_of(self, lesson: Lesson) -> JSON:
        """Render the Subject of a lesson."""
        school_id = self.world.school_class(lesson.class_id).school_id
        return catalog.subject(self.subjects[(school_id, lesson.subject)], lesson.subject)

    def status(self, lesson: Lesson) -> str:
        """Return the lesson status (vocabulary unsourced): held or not yet."""
        return "Conducted" if lesson.date <= self.world.today else "NotStarted"

    def mark(self, item: Mark) -> JSON:
        """Render a Mark; ``value`` is always a string, text marks keep their text."""
        numeric = item.kind == "numeric"
        lesson = self.world.lesson(item.lesson_id)
        mood = MOOD.get(item.value or 0, "NotSet") if numeric else TEXT_MOOD.get(item.shown)
        return {
            **ids.pair("id", "mark", item.id),
            "type": catalog.mark_system(item.shown, item.kind),
            "value": item.shown,
            "textValue": item.shown,
            **ids.pair("person", "student", item.student_id),
            **ids.pair("work", "work", item.id),
            **ids.pair("lesson", "lesson", item.lesson_id),
            "number": 0,
            "date": stamp(_moment(lesson.date, lesson.ends_at, item.id, 20)),
            "workType": ids.encode("work_type", item.work_type_id),
            "mood": mood or "NotSet",
            "use_avg_calc": numeric,
        }

    def mark_work(self, item: Mark) -> JSON:
        """Render the Work a mark was given for."""
        lesson = self.world.lesson(item.lesson_id)
        work_type = self.world.work_type(item.work_type_id)
        return self._work(
            lesson,
            ids.pair("id", "work", item.id),
            kind=catalog.KIND_OF.get(work_type.id, "CommonWork"),
            type_id=work_type.id,
            mark_type=catalog.mark_system(item.shown, item.kind),
            text=item.description or "",
            target=at(lesson.date, lesson.starts_at),
            important=work_type.weight >= 40,
        )

    def homework_work(self, item: Homework, person: Student | None = None) -> JSON:
        """Render homework as a Work of type Homework, set on one lesson, due at another."""
        issued = self.world.lesson(item.issued_lesson_id)
        due = self.world.lesson(item.due_lesson_id)
        rv = self._work(
            issued,
            ids.pair("id", "homework", item.id),
            kind="Homework",
            type_id=catalog.HOMEWORK_TYPE,
            mark_type="mark5",
            text=item.text,
            target=at(due.date, due.starts_at),
            important=False,
        )
        sent = _moment(issued.date, issued.ends_at, item.id, 5)
        rv["sentDate"] = stamp(sent)
        rv["files"] = [ids.encode("file", a.id) for a in item.attachments]
        if person is not None:
            rv["tasks"] = [self.task(item, person)]
        return rv

    def _work(
        self,
        lesson: Lesson,
        id_pair: dict[str, t.Any],
        *,
        kind: str,
        type_id: int,
        mark_type: str,
        text: str,
        target: str,
        important: bool,
    ) -> JSON:
        period = catalog.period_of(lesson.date)
        return {
            **id_pair,
            "type": kind,
            "workType": ids.encode("work_type", type_id),
            "markType": mark_type,
            "markCount": 1,
            **ids.pair("lesson", "lesson", lesson.id),
            "displayInJournal": True,
            "status": "Sent",
            **ids.pair("eduGroup", "group", lesson.class_id),
            "tasks": [],
            "text": text,
            "periodNumber": period.number,
            "periodType": "Quarter",
            "subjectId": self.subject_id(lesson),
            "isImportant": important,
            "targetDate": target,
            "sentDate": None,
            "createdBy": ids.encode("teacher", lesson.teacher_id),
            "files": [],
            "oneDriveLinks": [],
        }

    def task(self, item: Homework, person: Student) -> JSON:
        """Render the child's Task of a homework."""
        due = self.world.lesson(item.due_lesson_id)
        return {
            **ids.pair("id", "task", item.id),
            **ids.pair("person", "student", person.id),
            **ids.pair("work", "homework", item.id),
            "status": "NotStarted",
            "targetDate": at(due.date, due.starts_at),
        }

    def works_of_lesson(self, lesson: Lesson, student: Student) -> list[int]:
        """Return the ids of the works of a lesson: its graded works and homework set on it."""
        rv = [
            ids.encode("work", m.id)
            for m in self.world.marks_of(student.id, lesson.date, lesson.date)
            if m.lesson_id == lesson.id
        ]
        rv += [
            ids.encode("homework", h.id)
            for h in self.world.homework
            if h.issued_lesson_id == lesson.id
        ]
        return rv

    def schedule_lesson(self, lesson: Lesson, student: Student) -> JSON:
        """Render a lesson as schedules and bundles carry it: ``subjectId``, work ids."""
        return {
            "id": ids.encode("lesson", lesson.id),
            "title": lesson.theme,
            "date": at(lesson.date, lesson.starts_at),
            "number": lesson.number,
            "subjectId": self.subject_id(lesson),
            "status": self.status(lesson),
            "resultPlaceId": 0,
            "building": "",
            "place": lesson.room or "",
            "floor": _floor(lesson.room),
            "hours": f"{lesson.starts_at} - {lesson.ends_at}",
            "works": self.works_of_lesson(lesson, student),
            "teachers": [ids.encode("teacher", lesson.teacher_id)],
        }

    def lesson(self, lesson: Lesson, student: Student) -> JSON:
        """Render ``lessons/{lesson}``: a nested Subject and full Works."""
        marks = [m for m in self.world.marks_of(student.id, lesson.date, lesson.date)]
        works = [self.mark_work(m) for m in marks if m.lesson_id == lesson.id]
        works += [
            self.homework_work(h, student)
            for h in self.world.homework
            if h.issued_lesson_id == lesson.id
        ]
        teacher = ids.encode("teacher", lesson.teacher_id)
        return {
            **ids.pair("id", "lesson", lesson.id),
            "title": lesson.theme,
            "date": at(lesson.date, lesson.starts_at),
            "number": lesson.number,
            "subject": self.subject_of(lesson),
            "group": ids.encode("group", lesson.class_id),
            "status": self.status(lesson),
            "resultPlaceId": 0,
            "works": works,
            "teachers": [teacher],
            "teachers_str": [str(teacher)],
        }

    def log_entry(self, absence: Absence) -> JSON:
        """Render a LessonLogEntry (no id of its own: the person and lesson are the key)."""
        lesson = self.world.lesson(absence.lesson_id)
        created = _moment(lesson.date, lesson.starts_at, absence.lesson_id, 8)
        return {
            **ids.pair("person", "student", absence.student_id),
            **ids.pair("lesson", "lesson", absence.lesson_id),
            "comment": None,
            "status": STATUS[absence.kind],
            "createdDate": stamp(created),
        }

    def file(self, item: Attachment, base_url: str) -> JSON:
        """Render a homework file; ``downloadUrl`` needs the token like the API."""
        file_id = ids.encode("file", item.id)
        extension = item.name.rsplit(".", 1)[-1].lower()
        return {
            **ids.pair("id", "file", item.id),
            "name": item.name,
            "typeGroup": "Document",
            "type": extension,
            "pageUrl": f"{base_url}/v2/files/{file_id}",
            "downloadUrl": f"{base_url}/v2/files/{file_id}/download",
            "user": None,
            "size": len(item.content),
            "vote": None,
            "uploadedDate": None,
            "storageType": "Local",
        }
