"""Averages per subject (``subject_marks``, §2.2) and the class rating (§2.6), deterministic."""

from __future__ import annotations

import datetime as dt
import math
import random
import typing as t

from flask import Blueprint
from flask import Response
from flask import abort
from flask import jsonify
from flask import request

from regional_mock.mesh import payloads
from regional_mock.mesh.family import child
from regional_mock.mesh.family import family_route
from regional_mock.mesh.ids import guid
from regional_mock.mesh.ids import subject_id
from regional_mock.mesh.wire import DENIED
from regional_mock.mesh.wire import api_error
from regional_mock.mesh.wire import emulator
from regional_mock.mesh.wire import require_token
from regional_mock.records import Mark
from regional_mock.records import Student

bp = Blueprint("mesh_progress", __name__)

CLASSMATES = 24
QUARTERS = ((9, 1, 10, 31), (11, 1, 12, 31), (1, 1, 3, 31), (4, 1, 5, 31))


def average(marks: t.Iterable[Mark]) -> float | None:
    """Return Σ(five·weight)/Σweight over numeric marks, or None without any (§4.1)."""
    pairs = [(m.value or 0, payloads.mesh_weight(m.weight)) for m in marks if m.kind == "numeric"]
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total else None


def quarter(day: dt.date) -> tuple[int, dt.date, dt.date]:
    """Return the number and bounds of the quarter (четверть) containing a day."""
    for number, (m1, d1, m2, d2) in enumerate(QUARTERS, start=1):
        year = day.year
        start, end = dt.date(year, m1, d1), dt.date(year, m2, d2)
        if start <= day <= end:
            return number, start, end
    return 4, dt.date(day.year, 6, 1), dt.date(day.year, 8, 31)


def target(marks: list[Mark], now: float) -> dict[str, t.Any]:
    """Return the next rounded mark and how many marks of 5 at each weight reach it (§2.2)."""
    value = min(5, math.floor(now + 0.49) + 1)
    threshold = value - 0.49
    total = sum(payloads.mesh_weight(m.weight) for m in marks if m.kind == "numeric")
    points = now * total
    if now >= 4.51:
        return {"value": 5, "remain": 0, "round": "4.51", "paths": []}
    paths = []
    for weight in (1, 2):
        needed = math.ceil((threshold * total - points) / (weight * (5 - threshold)) - 1e-9)
        paths.append({"value": 5, "remain": max(needed, 1), "weight": weight})
    return {
        "value": value,
        "remain": paths[0]["remain"],
        "round": f"{threshold:.2f}",
        "paths": paths,
    }


def _subject_row(student: Student, subject: str, marks: list[Mark]) -> dict[str, t.Any]:
    today = emulator().world.today
    now = average(marks)
    if now is None:
        return {"dynamic": "NONE", "subject_name": subject}
    before = average(m for m in marks if m.date < today - dt.timedelta(days=7))
    dynamic = (
        "NONE" if before is None or abs(before - now) < 0.01 else "UP" if now > before else "DOWN"
    )
    periods = []
    for number in sorted({quarter(m.date)[0] for m in marks}):
        inside = [m for m in marks if quarter(m.date)[0] == number]
        _, start, end = quarter(inside[0].date)
        value = average(inside)
        period = {"start": f"{start:%d.%m}", "end": f"{end:%d.%m}", "start_iso": start.isoformat()}
        period |= {"end_iso": end.isoformat(), "title": f"{number} четверть", "dynamic": dynamic}
        period |= {"value": f"{value:.2f}" if value else None, "count": len(inside)}
        period |= {"marks": [payloads.mark(m) for m in inside], "fixed_value": None}
        if value is not None:
            period["target"] = target(inside, value)
        periods.append(period)
    row = {"average": f"{now:.2f}", "dynamic": dynamic, "periods": periods}
    row |= {"subject_name": subject, "subject_id": subject_id(subject)}
    return {**row, "average_by_all": f"{now:.2f}", "year_mark": None}


@family_route("/subject_marks", bp)
def subject_marks() -> Response:
    """Return averages, period marks and targets per subject over the world's month."""
    student = child()
    world = emulator().world
    marks = world.marks_of(student.id, world.first_day, world.today)
    subjects = [c.subject for c in world.courses if c.class_id == student.class_id]
    rows = [_subject_row(student, s, [m for m in marks if m.subject == s]) for s in subjects]
    return jsonify(payload=rows)


def _rated_child() -> Student:
    token = require_token()
    em = emulator()
    raw = request.args.get("personId") or request.args.get("person_id") or ""
    student = em.ids.student_by_guid(raw)
    if student is None or student.id not in token.account.student_ids:
        abort(api_error(403, DENIED))
    return student


def _day(name: str) -> dt.date:
    raw = request.args.get(name)
    try:
        return dt.date.fromisoformat(raw) if raw else emulator().world.today
    except ValueError:
        abort(api_error(400, f"Invalid date: {name}"))


def class_averages(student: Student, day: dt.date, subject: str | None = None) -> dict[str, float]:
    """Return person id -> average on a day, the child's from the world, classmates' drawn."""
    world = emulator().world
    marks = [
        m
        for m in world.marks_of(student.id, world.first_day, day)
        if subject is None or m.subject == subject
    ]
    mine = emulator().ids.contingent_guid(student)
    result = {mine: round(average(marks) or 0.0, 2)}
    for index in range(CLASSMATES):
        base = random.Random(f"{world.seed}/mesh-rating/{student.class_id}/{index}/{subject}")
        drift = random.Random(f"{world.seed}/{index}/{subject}/{day.isoformat()}")
        value = base.uniform(3.3, 4.9) + drift.uniform(-0.04, 0.04)
        result[guid("classmate", student.class_id, index)] = round(min(value, 5.0), 2)
    return result


def places(averages: dict[str, float]) -> dict[str, int]:
    """Return dense rank places, highest average first."""
    ordered = sorted(set(averages.values()), reverse=True)
    return {person: ordered.index(value) + 1 for person, value in averages.items()}


def _rank(
    student: Student, day: dt.date, subject: str | None = None
) -> dict[str, dict[str, t.Any]]:
    now = class_averages(student, day, subject)
    before = class_averages(student, day - dt.timedelta(days=7), subject)
    place_now, place_before = places(now), places(before)
    ranks = {}
    for person, value in now.items():
        move = place_before[person] - place_now[person]
        trend = "UP" if move > 0 else "DOWN" if move < 0 else "NONE"
        rank = {"averageMarkFive": value, "rankPlace": place_now[person], "rankStatus": "OK"}
        previous = {"averageMarkFive": before[person], "rankPlace": place_before[person]}
        ranks[person] = {"rank": {**rank, "trend": trend}, "previousRank": previous}
    return ranks


@bp.get("/api/ej/rating/v1/rank/class")
def rank_class() -> Response:
    """Return the whole class's ranking, anonymised by ``personId`` (§2.6)."""
    student = _rated_child()
    ranks = _rank(student, _day("date"))
    rows = [
        {"personId": person, "imageId": 1 + index % 7, **rank}
        for index, (person, rank) in enumerate(ranks.items())
    ]
    rows.sort(key=lambda row: (row["rank"]["rankPlace"], row["personId"]))
    return jsonify(rows)


@bp.get("/api/ej/rating/v1/rank/subjects")
def rank_subjects() -> Response:
    """Return the child's place per subject."""
    student = _rated_child()
    world = emulator().world
    mine = emulator().ids.contingent_guid(student)
    rows = []
    for course in (c for c in world.courses if c.class_id == student.class_id):
        rank = _rank(student, _day("date"), course.subject)[mine]["rank"]
        rows.append(
            {"subjectId": subject_id(course.subject), "subjectName": course.subject, "rank": rank}
        )
    return jsonify(rows)


@bp.get("/api/ej/rating/v1/rank/rankShort")
def rank_short() -> Response:
    """Return the child's place for each day of ``beginDate``..``endDate``."""
    student = _rated_child()
    start, end = _day("beginDate"), _day("endDate")
    if end < start or (end - start).days > 366:
        return api_error(400, "Invalid period")
    mine = emulator().ids.contingent_guid(student)
    rows, day = [], start
    while day <= end:
        rows.append(
            {"date": day.isoformat(), "rankPlace": places(class_averages(student, day))[mine]}
        )
        day += dt.timedelta(days=1)
    return jsonify(rows)
