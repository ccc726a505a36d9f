"""Turn MESH bodies (family profile, marks, homework, event calendar, rating) into the schema."""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from collections.abc import Iterable
from collections.abc import Mapping

from connectors.labels import class_label
from connectors.schema import Attachment
from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Event
from connectors.schema import EventKind
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Period
from connectors.schema import Rating
from connectors.schema import Scale
from connectors.schema import Student

Raw = Mapping[str, t.Any]

MSK = dt.timezone(dt.timedelta(hours=3), "MSK")  # Moscow time, no DST (note §4.6)
SCALES = {"five": Scale.FIVE_POINT, "ten": Scale.TEN_POINT, "hundred": Scale.HUNDRED_POINT}
SCALE_NAMES = {"5-": Scale.FIVE_POINT, "10-": Scale.TEN_POINT, "100-": Scale.HUNDRED_POINT}
PASS_FAIL = {"зч", "зачёт", "зачет", "зачтено", "нз", "незачёт", "незачет", "не зачтено"}
PASS_FAIL |= {"осв", "освоено", "не освоено"}
NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
# Parent-notice reason 6 is «болезнь» (note §2.5); the journal's absence_reason_id codes are
# undocumented, and the emulator reuses 6 for illness there.
ILLNESS = 6
# The names of the notice reasons (note §2.5): a description that only repeats one says
# nothing the kind of absence does not already say.
REASON_NAMES = {ILLNESS: "болезнь"}
# Calendar sources that are lessons (timetable, дополнительное образование, внеурочка).
LESSON_SOURCES = ("PLAN", "AE", "EC")
MEETING_WORDS = ("собрани",)
EXAM_WORDS = ("экзамен", "огэ", "егэ", "впр")


def _day(raw: t.Any) -> dt.date:
    """Read ``yyyy-mm-dd`` (or the date part of a datetime)."""
    return dt.date.fromisoformat(str(raw)[:10])


def _text(raw: t.Any) -> str | None:
    """Return stripped text, None for null or blank."""
    text = str(raw).strip() if raw is not None else ""
    return text or None


def _moscow(raw: t.Any) -> dt.datetime:
    """Read a calendar time (ISO with an offset) as a Moscow datetime."""
    moment = dt.datetime.fromisoformat(str(raw))
    return moment.replace(tzinfo=MSK) if moment.tzinfo is None else moment.astimezone(MSK)


def _person(raw: Raw | None) -> str | None:
    """Join last, first and middle name."""
    if not raw:
        return None
    parts = (raw.get("last_name"), raw.get("first_name"), raw.get("middle_name"))
    return " ".join(p for p in parts if p) or None


def parent_profile_id(profile: Raw) -> int | None:
    """Return the parent's own profile id (the ``Profile-Id`` header, note §1.7)."""
    value = (profile.get("profile") or {}).get("id")
    return int(value) if value is not None else None


def children_ids(profile: Raw) -> dict[str, dict[str, t.Any]]:
    """Map each child's ``student_id`` to the other ids the API wants (note §0.4)."""
    return {
        str(child["id"]): {
            "person_id": child.get("contingent_guid"),
            "contract_id": child.get("contract_id"),
        }
        for child in profile["children"]
    }


def students(profile: Raw) -> list[Student]:
    """Return the children of the family profile."""
    found = []
    for child in profile["children"]:
        school = child.get("school") or {}
        born = child.get("birth_date")
        found.append(
            Student(
                id=str(child["id"]),
                full_name=_person(child) or "",
                school=_text(school.get("short_name") or school.get("name")),
                class_name=class_label(child.get("class_name")),
                birth_date=_day(born) if born else None,
            )
        )
    return found


def _scale(raw: Raw, conversion: Raw) -> Scale:
    """Pick the scale from the grade system type, else its name, else the value."""
    kind = conversion.get("grade_system_type") or raw.get("original_grade_system_type")
    if kind in SCALES:
        return SCALES[kind]
    name = str(conversion.get("name") or "")
    for prefix, scale in SCALE_NAMES.items():
        if name.startswith(prefix):
            return scale
    shown = str(raw.get("value") or "").strip().casefold()
    return Scale.PASS_FAIL if shown in PASS_FAIL else Scale.FIVE_POINT


def _numeric(shown: str, scale: Scale, conversion: Raw) -> float | None:
    """Return the mark on its own scale: the conversion, else the origin, else the value."""
    grade = conversion.get("grade") or {}
    key = next((k for k, v in SCALES.items() if v is scale), None)
    for candidate in (grade.get(key) if key else None, grade.get("origin"), shown):
        if isinstance(candidate, int | float) and not isinstance(candidate, bool):
            return float(candidate)
        if isinstance(candidate, str) and NUMBER.match(candidate.strip()):
            return float(candidate.strip().replace(",", "."))
    return None


def _shown(raw: Raw) -> str:
    """Return the mark as shown; a criterion-based mark shows its criteria (note §4.2)."""
    value = str(raw.get("value") if raw.get("value") is not None else "").strip()
    criteria = raw.get("criteria") or []
    if value or not criteria:
        return value
    return "; ".join(f"{c.get('name')}: {c.get('value')}" for c in criteria)


def grade(raw: Raw) -> Grade:
    """Return one mark (``/marks`` fields): value as shown, numeric on its own scale, weight."""
    conversion = (raw.get("values") or [{}])[0] or {}
    shown = _shown(raw)
    scale = Scale.PASS_FAIL if shown.casefold() in PASS_FAIL else _scale(raw, conversion)
    numeric = None if scale is Scale.PASS_FAIL else _numeric(shown, scale, conversion)
    comment = _text(raw.get("comment"))
    if raw.get("is_point"):
        # A «точка» is provisional (note §4.3): keep it out of averages and say so.
        numeric = None
        until = raw.get("point_date")
        point = f"Точка: исправить до {_day(until):%d.%m.%Y}" if until else "Точка"
        comment = f"{comment} ({point})" if comment else point
    weight = raw.get("weight")
    activity = raw.get("activity") or {}
    return Grade(
        id=str(raw["id"]),
        subject=str(raw.get("subject_name") or ""),
        value=shown,
        numeric=numeric,
        scale=scale,
        date=_day(raw["date"]),
        weight=float(weight) if weight is not None else None,
        work_type=_text(raw.get("control_form_name")),
        teacher=_person(raw.get("teacher")),
        comment=comment,
        topic=_text(activity.get("lesson_topic")),
    )


def grades(body: Raw) -> list[Grade]:
    """Return the marks of an event-calendar body read with ``expand=marks`` (note §2.4 a).

    A lesson's marks leave out the date and subject ``/marks`` gives them: they are the
    lesson's own.
    """
    found: list[Grade] = []
    for event in body["response"]:
        if event.get("source", "PLAN") not in LESSON_SOURCES:
            continue
        lesson = {
            "subject_name": event.get("subject_name"),
            "date": _moscow(event["start_at"]).date().isoformat(),
        }
        found.extend(grade(lesson | mark) for mark in event.get("marks") or ())
    return sorted(found, key=lambda g: (g.date, g.subject, g.id))


def _attachments(raw: Raw) -> tuple[Attachment, ...]:
    """Collect files and links from ``materials``, ``attachments`` and older shapes."""
    found: list[Attachment] = []
    for item in raw.get("materials") or []:
        urls = [u.get("url") for u in item.get("urls") or [] if u.get("url")]
        name = _text(item.get("title")) or _text(item.get("type_name")) or "Материал"
        found.append(Attachment(name=name, url=urls[0] if urls else None))
    for item in raw.get("attachments") or []:
        name = _text(item.get("title") or item.get("name") or item.get("file_name")) or "Файл"
        found.append(Attachment(name=name, url=_text(item.get("url") or item.get("link"))))
    for group in raw.get("additional_materials") or []:  # the older shape (note §2.3)
        for item in group.get("items") or []:
            urls = [item.get("link")] + [u.get("url") for u in item.get("urls") or []]
            url = next((u for u in urls if u), None)
            found.append(Attachment(name=_text(item.get("title")) or "Материал", url=url))
    return tuple(found)


def homework(raw: Raw) -> Homework:
    """Return one item of ``/homeworks`` with its files and test links as attachments."""
    key = raw.get("homework_entry_student_id") or raw.get("homework_id")
    assigned = raw.get("date_assigned_on")
    return Homework(
        id=str(key if key is not None else raw["homework_entry_id"]),
        subject=str(raw.get("subject_name") or ""),
        text=str(raw.get("description") or raw.get("homework") or "").strip(),
        due_on=_day(raw.get("date") or raw["date_prepared_for"]),
        assigned_on=_day(assigned) if assigned else None,
        attachments=_attachments(raw),
    )


def homeworks(body: Raw) -> list[Homework]:
    """Return the homework of a ``{"payload": [...]}`` body."""
    return [homework(item) for item in body["payload"]]


def _lessons_by_day(body: Raw) -> list[tuple[Raw, dt.datetime, int]]:
    """Return timetable events with their start, numbered in order within each day."""
    items = [e for e in body["response"] if e.get("source", "PLAN") == "PLAN"]
    items = [e for e in items if (e.get("lesson_education_type") or "OO") == "OO"]
    timed = sorted(((e, _moscow(e["start_at"])) for e in items), key=lambda p: p[1])
    numbered: list[tuple[Raw, dt.datetime, int]] = []
    counts: dict[dt.date, int] = {}
    for event, start in timed:
        counts[start.date()] = counts.get(start.date(), 0) + 1
        numbered.append((event, start, counts[start.date()]))
    return numbered


def _status(event: Raw) -> tuple[LessonStatus, str | None]:
    """Return the lesson status and a note on what changed."""
    note = _text(event.get("comment"))
    if event.get("cancelled"):
        return LessonStatus.CANCELLED, note or "Урок отменён"
    if event.get("replaced"):
        return LessonStatus.REPLACED, note or "Замена"
    return LessonStatus.PLANNED, note


def lessons(body: Raw) -> list[Lesson]:
    """Return the lessons of an event-calendar body (``PLAN`` events, note §2.4 a)."""
    found = []
    for event, start, number in _lessons_by_day(body):
        status, note = _status(event)
        homework_info = event.get("homework") or {}
        room = _text(event.get("room_number")) or _text(event.get("room_name"))
        found.append(
            Lesson(
                id=str(event["id"]),
                date=start.date(),
                number=number,
                subject=str(event.get("subject_name") or event.get("lesson_name") or ""),
                starts_at=start.time(),
                ends_at=_moscow(event["finish_at"]).time() if event.get("finish_at") else None,
                room=room,
                status=status,
                note=note,
                homework=tuple(str(d) for d in homework_info.get("descriptions") or ()),
            )
        )
    return found


def _notices(body: Raw, period: Period) -> dict[dt.date, Raw]:
    """Return the parent's absence notices of the period by date."""
    items = ((_day(n["date"]), n) for n in body.get("attendance") or [])
    return {day: notice for day, notice in items if period.start <= day <= period.end}


def _kind(reason: t.Any, notice: Raw | None) -> AttendanceKind:
    """Classify a missed lesson (note §2.5 [inf]: no reason and no notice is unexcused)."""
    if reason == ILLNESS or (notice and notice.get("reason_id") == ILLNESS):
        return AttendanceKind.ILL
    if notice and "болез" in str(notice.get("description") or "").casefold():
        return AttendanceKind.ILL
    if reason is not None or notice is not None:
        return AttendanceKind.EXCUSED
    return AttendanceKind.UNEXCUSED


def _notice_note(notice: Raw | None) -> str | None:
    """Return the parent's description of an absence, unless it only names the reason."""
    text = _text(notice.get("description")) if notice else None
    if text is None or text.casefold() in REASON_NAMES.values():
        return None
    return text


def attendance(calendar: Raw, notices: Raw, period: Period) -> list[Attendance]:
    """Return missed lessons from the calendar, classified with the parent's notices."""
    by_day = _notices(notices, period)
    found, seen = [], set()
    for event, start, number in _lessons_by_day(calendar):
        if not event.get("is_missed_lesson") or not period.start <= start.date() <= period.end:
            continue
        notice = by_day.get(start.date())
        reason = event.get("absence_reason_id")
        kind = _kind(reason, notice)
        seen.add(start.date())
        note = _notice_note(notice)
        subject = _text(event.get("subject_name"))
        found.append(
            Attendance(
                date=start.date(), kind=kind, subject=subject, lesson_number=number, note=note
            )
        )
    for day, notice in sorted(by_day.items()):
        if day not in seen:  # a notice for a day the journal does not (yet) show
            note = _notice_note(notice) or _text(notice.get("summary"))
            found.append(Attendance(date=day, kind=_kind(None, notice), note=note))
    return found


def _event_kind(event: Raw) -> EventKind:
    """Classify an event by its title, then by its source."""
    title = str(event.get("title") or "").casefold()
    if any(word in title for word in MEETING_WORDS):
        return EventKind.PARENT_MEETING
    if any(word in title for word in EXAM_WORDS):
        return EventKind.EXAM
    return (
        EventKind.PARENT_MEETING if event.get("source") == "ORGANIZER" else EventKind.SCHOOL_EVENT
    )


def _agenda(raw: t.Any) -> str | None:
    """Return the description without its «Повестка:» heading."""
    text = _text(raw)
    if text and text.casefold().startswith("повестка:"):
        text = _text(text.split(":", 1)[1])
    return text


def events(body: Raw) -> list[Event]:
    """Return the meetings and school events of an event-calendar body (note §2.9)."""
    found = []
    for event in body["response"]:
        if event.get("source", "PLAN") in LESSON_SOURCES or event.get("cancelled"):
            continue
        place = event.get("place") or event.get("address") or event.get("room_name")
        found.append(
            Event(
                id=str(event["id"]),
                kind=_event_kind(event),
                title=str(event.get("title") or event.get("subject_name") or ""),
                starts_at=_moscow(event["start_at"]),
                place=_text(place),
                agenda=_agenda(event.get("description")),
            )
        )
    return sorted(found, key=lambda e: e.starts_at)


def rating(rows: Iterable[Raw], person_id: str, as_of: dt.date) -> list[Rating]:
    """Return the child's place in the class ranking, found by ``personId`` (note §2.6)."""
    rows = list(rows)
    mine = next((r for r in rows if str(r.get("personId")).lower() == person_id.lower()), None)
    if mine is None or not (mine.get("rank") or {}).get("rankPlace"):
        return []
    places = [int((r.get("rank") or {}).get("rankPlace") or 0) for r in rows]
    return [
        Rating(place=int(mine["rank"]["rankPlace"]), out_of=max(len(rows), *places), as_of=as_of)
    ]
