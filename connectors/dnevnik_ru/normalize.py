"""Turn Dnevnik.ru v2 JSON into the normalized schema: pure functions, no I/O.

Ids are int64 values above 2**53; every id is read from its ``*_str`` twin when there is one
(note §0) and otherwise from the integer, which Python's ``json`` keeps exact. A float id has
already been rounded by someone, so it is refused.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.errors import UnexpectedResponse
from connectors.labels import class_label
from connectors.schema import Attachment
from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Scale
from connectors.schema import Student

JSON = Mapping[str, t.Any]
NO_SUBJECT = "—"
# Mark systems (note §2.5, §4): only mark5 is sourced; the rest are kept as text.
SCALES = {"mark5": Scale.FIVE_POINT, "mark10": Scale.TEN_POINT, "mark100": Scale.HUNDRED_POINT}
# Lesson-log statuses (note §2.10); Attend means present and is not reported.
ATTENDANCE = {
    "absent": AttendanceKind.UNEXCUSED,
    "ill": AttendanceKind.ILL,
    "pass": AttendanceKind.EXCUSED,
    "late": AttendanceKind.LATE,
}
PRESENT = "attend"
# The Lesson.status vocabulary is unsourced (note §6.4); only a cancellation is recognised.
CANCELLED = {"canceled", "cancelled"}


@dataclass(frozen=True, slots=True)
class LessonRef:
    """What grades and attendance need to know about a lesson."""

    date: dt.date
    number: int | None
    subject: str
    title: str | None


def ident(obj: JSON, key: str = "id") -> str:
    """Return an id as a string, from ``key_str`` when present."""
    twin = obj.get(f"{key}_str")
    if isinstance(twin, str) and twin.strip().lstrip("-").isdigit():
        return twin.strip()
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise UnexpectedResponse(f"Дневник.ру: {key} is not an integer id")


def maybe_ident(obj: JSON, key: str) -> str | None:
    """Return an optional id (``lesson``, ``workType``), None when neither form is there."""
    if obj.get(key) is None and obj.get(f"{key}_str") is None:
        return None
    return ident(obj, key)


def ident_list(obj: JSON, key: str) -> list[str]:
    """Return a list of ids, from ``key_str`` when present."""
    twins = obj.get(f"{key}_str")
    values = twins if isinstance(twins, list) else obj.get(key) or []
    return [ident({"id": v}) for v in values]


def moment(raw: t.Any) -> dt.datetime:
    """Parse a naive ISO date-time with an optional fraction or offset."""
    try:
        return dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError as err:
        raise UnexpectedResponse("Дневник.ру: a date is not ISO-8601") from err


def person_name(person: JSON) -> str:
    """Return «Фамилия Имя Отчество», or ``shortName`` when the scope hid the parts."""
    parts = [person.get(k) for k in ("lastName", "firstName", "middleName")]
    full = " ".join(p for p in parts if isinstance(p, str) and p)
    return full or str(person.get("shortName") or "")


def child_links(context: JSON) -> dict[str, dict[str, t.Any]]:
    """Map each child's person id to its school id and group ids (``users/me/context``)."""
    links = {}
    for child in context.get("children") or []:
        schools = ident_list(child, "schoolIds")
        links[ident(child, "personId")] = {
            "school_id": schools[0] if schools else None,
            "group_ids": ident_list(child, "groupIds"),
        }
    return links


def with_subgroups(
    links: Mapping[str, dict[str, t.Any]], groups: Mapping[str, Iterable[JSON]]
) -> dict[str, dict[str, t.Any]]:
    """Add each child's current subgroups (``persons/{p}/edu-groups``) to its group ids:
    the context lists the class alone (note §6), and a subgroup's lessons, marks and absences
    come only in its own schedules bundle."""
    rv = {}
    for person, link in links.items():
        ids = list(link["group_ids"])
        for group in groups.get(person, ()):
            if str(group.get("status") or "").casefold() != "archive" and ident(group) not in ids:
                ids.append(ident(group))
        rv[person] = {**link, "group_ids": ids}
    return rv


def students(
    context: JSON, schools: Iterable[JSON], groups: Mapping[str, Iterable[JSON]]
) -> list[Student]:
    """Build the students of a context, with school names and their class's name."""
    school_names = {ident(s): str(s.get("name") or "") or None for s in schools}
    rv = []
    for child in context.get("children") or []:
        person = ident(child, "personId")
        school_ids = ident_list(child, "schoolIds")
        wanted = set(ident_list(child, "groupIds"))
        classes = [g for g in groups.get(person, ()) if ident(g) in wanted or not wanted]
        main = [g for g in classes if g.get("type") in (None, "Group")] or classes
        rv.append(
            Student(
                id=person,
                full_name=person_name(child),
                school=school_names.get(school_ids[0]) if school_ids else None,
                class_name=class_label(main[0].get("name")) if main else None,
            )
        )
    return rv


def lesson_refs(lessons: Iterable[JSON]) -> dict[str, LessonRef]:
    """Index Lesson objects (``edu-groups/{g}/lessons``, ``lessons/{id}``) by id."""
    rv = {}
    for lesson in lessons:
        subject = lesson.get("subject") or {}
        rv[ident(lesson)] = LessonRef(
            date=moment(lesson["date"]).date(),
            number=lesson.get("number"),
            subject=str(subject.get("name") or NO_SUBJECT),
            title=lesson.get("title") or None,
        )
    return rv


def bundle_lessons(bundles: Iterable[JSON]) -> dict[str, LessonRef]:
    """Index the lessons of schedules bundles by id, as :func:`lesson_refs` does Lessons."""
    rv = {}
    for bundle in bundles:
        for day in bundle.get("days") or []:
            subjects = _subjects(day)
            for lesson in day.get("lessons") or []:
                rv[ident(lesson)] = LessonRef(
                    date=moment(lesson["date"]).date(),
                    number=lesson.get("number"),
                    subject=subjects.get(ident(lesson, "subjectId"), NO_SUBJECT),
                    title=lesson.get("title") or None,
                )
    return rv


def bundle_marks(bundles: Iterable[JSON]) -> list[JSON]:
    """Return the Marks of schedules bundles, each once (a lesson may be in two groups')."""
    found = {
        ident(m): m for b in bundles for d in b.get("days") or [] for m in d.get("marks") or []
    }
    return list(found.values())


def bundle_log(bundles: Iterable[JSON]) -> list[JSON]:
    """Return the lesson-log entries of schedules bundles, one per lesson."""
    found = {
        ident(e, "lesson"): e
        for b in bundles
        for d in b.get("days") or []
        for e in d.get("lessonLogEntries") or []
    }
    return list(found.values())


def scale_of(mark_type: t.Any) -> Scale | None:
    """Return the scale of a mark system; None for text systems (pass/fail, н/а, …)."""
    if mark_type is None:
        return Scale.FIVE_POINT  # the platform's default system when a mark omits it
    return SCALES.get(str(mark_type).casefold())


def numeric_value(shown: str, scale: Scale | None) -> float | None:
    """Return the number of a numeric system's mark; «5+» and «5-» count as 5."""
    if scale is None:
        return None
    try:
        return float(shown.strip().rstrip("+-").replace(",", "."))
    except ValueError:
        return None


def grades(
    marks: Iterable[JSON], work_types: Iterable[JSON], lessons: Mapping[str, LessonRef]
) -> list[Grade]:
    """Build grades from Marks, ``work-types/{school}`` (weights) and their lessons."""
    types = {ident(w): w for w in work_types}
    rv = []
    for mark in marks:
        shown = str(mark.get("textValue") or mark.get("value") or "")
        scale = scale_of(mark.get("type"))
        lesson = lessons.get(maybe_ident(mark, "lesson") or "")
        work_type = types.get(maybe_ident(mark, "workType") or "")
        weight = work_type.get("weight") if work_type else None
        rv.append(
            Grade(
                id=ident(mark),
                subject=lesson.subject if lesson else NO_SUBJECT,
                value=shown,
                numeric=numeric_value(shown, scale),
                scale=scale or Scale.PASS_FAIL,
                date=lesson.date if lesson else moment(mark["date"]).date(),
                weight=float(weight) if isinstance(weight, int | float) else None,
                work_type=(work_type.get("title") or None) if work_type else None,
                topic=lesson.title if lesson else None,
            )
        )
    return sorted(rv, key=lambda g: (g.date, g.subject, g.id))


def _subjects(bundle: JSON) -> dict[str, str]:
    """Map the subject ids of a bundle to their names."""
    return {ident(s): str(s.get("name") or NO_SUBJECT) for s in bundle.get("subjects") or []}


def _attachments(work: JSON, files: Mapping[str, JSON]) -> tuple[Attachment, ...]:
    """Return the bundle's files a Work lists by id."""
    found = [files[i] for i in ident_list(work, "files") if i in files]
    return tuple(
        Attachment(name=str(f.get("name") or ""), url=f.get("downloadUrl") or f.get("pageUrl"))
        for f in found
    )


def homework(bundle: JSON) -> list[Homework]:
    """Build homework from the homework bundle (``…/school/{s}/homeworks``)."""
    subjects = _subjects(bundle)
    files = {ident(f): f for f in bundle.get("files") or []}
    issued = {ident(x): moment(x["date"]).date() for x in bundle.get("lessons") or []}
    rv = []
    for work in bundle.get("works") or []:
        sent = work.get("sentDate")
        issued_on = issued.get(maybe_ident(work, "lesson") or "")
        assigned = issued_on or (moment(sent).date() if sent else None)
        rv.append(
            Homework(
                id=ident(work),
                subject=subjects.get(ident(work, "subjectId"), NO_SUBJECT),
                text=str(work.get("text") or ""),
                due_on=moment(work["targetDate"]).date(),
                assigned_on=assigned,
                attachments=_attachments(work, files),
            )
        )
    return sorted(rv, key=lambda h: (h.due_on, h.subject, h.id))


def _hours(raw: t.Any) -> tuple[dt.time | None, dt.time | None]:
    """Parse ``"08:30 - 09:15"``."""
    start, _, end = str(raw or "").partition("-")
    try:
        return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())
    except ValueError:
        return None, None


def _day_homework(day: JSON, lessons: list[JSON]) -> dict[str, list[str]]:
    """Attach each homework due that day to its lesson: same subject, start = targetDate."""
    rv: dict[str, list[str]] = {}
    for work in day.get("homeworks") or []:
        subject = ident(work, "subjectId")
        same = [x for x in lessons if ident(x, "subjectId") == subject]
        exact = [x for x in same if x.get("date") == work.get("targetDate")]
        if (exact or same) and work.get("text"):
            rv.setdefault(ident((exact or same)[0]), []).append(str(work["text"]))
    return rv


def schedule(bundle: JSON) -> list[Lesson]:
    """Build lessons from the schedules bundle (``persons/{p}/groups/{g}/schedules``)."""
    rv = []
    for day in bundle.get("days") or []:
        subjects = _subjects(day)
        teachers = {ident(x["person"]): person_name(x["person"]) for x in day.get("teachers") or []}
        lessons = list(day.get("lessons") or [])
        homework_of = _day_homework(day, lessons)
        for lesson in lessons:
            starts, ends = _hours(lesson.get("hours"))
            start = moment(lesson["date"])
            names = [teachers[i] for i in ident_list(lesson, "teachers") if i in teachers]
            status = str(lesson.get("status") or "").casefold()
            rv.append(
                Lesson(
                    id=ident(lesson),
                    date=start.date(),
                    number=lesson.get("number"),
                    subject=subjects.get(ident(lesson, "subjectId"), NO_SUBJECT),
                    starts_at=starts or (start.time() if start.time() != dt.time() else None),
                    ends_at=ends,
                    teacher=", ".join(names) or None,
                    room=str(lesson.get("place") or "") or None,
                    status=LessonStatus.CANCELLED if status in CANCELLED else LessonStatus.PLANNED,
                    homework=tuple(homework_of.get(ident(lesson), ())),
                )
            )
    return sorted(rv, key=lambda x: (x.date, x.number or 0, x.id))


def attendance(entries: Iterable[JSON], lessons: Mapping[str, LessonRef]) -> list[Attendance]:
    """Build attendance from lesson-log entries; present (``Attend``) entries are skipped."""
    rv = []
    for entry in entries:
        status = str(entry.get("status") or "").casefold()
        if status == PRESENT:
            continue
        lesson = lessons.get(ident(entry, "lesson"))
        rv.append(
            Attendance(
                date=lesson.date if lesson else moment(entry["createdDate"]).date(),
                kind=ATTENDANCE.get(status, AttendanceKind.ABSENT),
                subject=lesson.subject if lesson else None,
                lesson_number=lesson.number if lesson else None,
                note=entry.get("comment") or None,
            )
        )
    return sorted(rv, key=lambda a: (a.date, a.lesson_number or 0))


def marked_lessons(marks: Iterable[JSON]) -> set[str]:
    """Return the lesson ids the marks were given at."""
    return {i for i in (maybe_ident(m, "lesson") for m in marks) if i is not None}


def absent_lessons(entries: Iterable[JSON]) -> set[str]:
    """Return the lesson ids of the entries that will become attendance records."""
    return {ident(e, "lesson") for e in entries if str(e.get("status") or "").casefold() != PRESENT}
