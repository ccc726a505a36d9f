"""NetSchool data endpoints of the web API: diary, years, types, cards, announcements."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.generate import monday
from regional_mock.netschool import payloads
from regional_mock.netschool.wire import PRODUCT
from regional_mock.netschool.wire import VERSION
from regional_mock.netschool.wire import emulator
from regional_mock.netschool.wire import iso
from regional_mock.netschool.wire import message
from regional_mock.netschool.wire import parse_day
from regional_mock.netschool.wire import require_session
from regional_mock.netschool.wire import require_student
from regional_mock.netschool.wire import school_year
from regional_mock.netschool.wire import short_person
from regional_mock.netschool.wire import year_id
from regional_mock.records import School

bp = Blueprint("netschool_diary", __name__, url_prefix="/webapi")


def _school() -> School:
    session = require_session()
    world = emulator().world
    return world.school_of(session.account.student_ids[0])


@bp.get("/student/diary/init")
def diary_init() -> Response:
    """List the account's children; ``currentStudentId`` is an index into ``students``."""
    session = require_session()
    world = emulator().world
    students = [
        {"studentId": s.id, "nickName": s.nick_name, "className": None, "classId": 0, "iupGrade": 0}
        for s in world.students_of(session.account)
    ]
    return jsonify(
        students=students,
        currentStudentId=0,
        weekStart=iso(monday(world.today)),
        yaClass=False,
        yaClassAuthUrl=None,
        newDiskToken="",
        newDiskWasRequest=False,
        ttsuRl="http://SGO-APP01:80/",
        externalUrl=request.host_url,
        weight=True,
        version=None,
        maxMark=5,
        withLaAssigns=True,
    )


def _year(school: School) -> dict[str, object]:
    today = emulator().world.today
    start, end = school_year(today)
    return {
        "id": year_id(today),
        "globalYearId": 14 + (start.year - 2025),
        "schoolId": school.id,
        "startDate": iso(start),
        "endDate": iso(end),
        "name": f"{start.year}/{end.year}",
        "archiveStatus": {"status": 0, "date": None},
        "status": "Active",
        "weekEndSet": 6,
    }


@bp.get("/years/current")
def years_current() -> Response:
    """Describe the current school year; its ``id`` is the diary's ``yearId``."""
    return jsonify(_year(_school()))


@bp.get("/grade/assignment/types")
def assignment_types() -> Response:
    """List work types; ``all=true`` adds the inactive ones with ``isActive``."""
    require_session()
    everything = request.args.get("all", "false").lower() == "true"
    rv = []
    for work in emulator().world.work_types:
        if not (work.active or everything):
            continue
        item: dict[str, object] = {
            "id": work.id,
            "name": work.name,
            "abbr": work.abbr,
            "order": work.order,
        }
        if everything:
            item["isActive"] = work.active
        rv.append(item)
    return jsonify(rv)


def _range() -> tuple[dt.date, dt.date]:
    start = parse_day(request.args.get("weekStart"))
    end = parse_day(request.args.get("weekEnd"))
    if start is None:
        start = monday(emulator().world.today)
    if end is None:
        end = start + dt.timedelta(days=6)
    return start, end


@bp.get("/student/diary")
def student_diary() -> Response:
    """Serve the diary of a date range (any length) for one of the account's children."""
    session = require_session()
    student = require_student(session.account, request.args.get("studentId"))
    start, end = _range()
    if end < start:
        return message(400, "The request is invalid.")
    state = emulator()
    return jsonify(payloads.diary(state.world, student, start, end, zero=state.zero_weights))


@bp.get("/student/diary/pastMandatory")
def past_mandatory() -> Response:
    """List the child's overdue (dotted) work."""
    session = require_session()
    raw = request.args.get("studentId") or request.args.get("studentID")
    student = require_student(session.account, raw)
    _, end = _range()
    return jsonify(payloads.past_mandatory(emulator().world, student, end))


@bp.get("/student/diary/assigns/<int:assignment_id>")
def assignment_card(assignment_id: int) -> Response:
    """Serve an assignment's card with its teacher, real weight and attachments."""
    session = require_session()
    student = require_student(session.account, request.args.get("studentId"))
    rv = payloads.card(emulator().world, student, assignment_id)
    if rv is None:
        return message(404, "Задание не найдено")
    return jsonify(rv)


@bp.post("/student/diary/get-attachments")
def get_attachments() -> Response:
    """List the files of the given assignments: one entry per assignment that has any."""
    session = require_session()
    student = require_student(session.account, request.args.get("studentId"))
    body = request.get_json(silent=True) or {}
    ids = body.get("assignId") or []
    world = emulator().world
    visible = {h.id: h for h in world.homework_of(student.id, world.first_day, world.last_day)}
    rv = [
        {
            "assignmentId": visible[i].id,
            "attachments": [payloads.attachment(a) for a in visible[i].attachments],
            "answerFiles": [],
        }
        for i in ids
        if isinstance(i, int) and i in visible and visible[i].attachments
    ]
    return jsonify(rv)


@bp.get("/attachments/<int:attachment_id>")
def download(attachment_id: int) -> Response:
    """Stream an attachment of the account's children's homework."""
    session = require_session()
    world = emulator().world
    for student in world.students_of(session.account):
        for homework in world.homework_of(student.id, world.first_day, world.last_day):
            for item in homework.attachments:
                if item.id == attachment_id:
                    return Response(item.content, mimetype="application/octet-stream")
    return message(404, "Файл не найден")


@bp.get("/announcements")
def announcements() -> Response:
    """List meetings, school events and teachers' messages; ``take=-1`` means all."""
    session = require_session()
    world = emulator().world
    items: dict[int, dict[str, object]] = {}
    posted: dict[int, dt.datetime] = {}
    for student in world.students_of(session.account):
        for event in world.events_of(student.id):
            items[event.id] = payloads.event_announcement(world, event)
            posted[event.id] = event.posted_at
        for item in world.messages_of(student.id):
            items[item.id] = payloads.message_announcement(world, item)
            posted[item.id] = item.sent_at
    ordered = [items[i] for i in sorted(items, key=lambda i: posted[i], reverse=True)]
    take = request.args.get("take", "-1")
    if take.lstrip("-").isdigit() and int(take) >= 0:
        ordered = ordered[: int(take)]
    return jsonify(ordered)


@bp.get("/context")
def context() -> Response:
    """Describe the session: user, school, school year."""
    session = require_session()
    school = _school()
    year = _year(school)
    user = {"id": session.account.id, "name": short_person(session.account.holder)}
    return jsonify(
        at=session.at,
        user=user,
        emId=None,
        roles=["Parent"],
        rights=[],
        userId=session.account.id,
        version=VERSION,
        schoolId=school.id,
        funcType=2,
        dateFormat="dd.MM.yyyy",
        timeFormat="HH:mm",
        schoolyear={
            "id": year["id"],
            "name": year["name"],
            "closed": False,
            "startDate": year["startDate"],
            "endDate": year["endDate"],
            "schoolId": school.id,
            "globalYear": {
                "id": year["globalYearId"],
                "name": year["name"],
                "startDate": year["startDate"],
                "endDate": year["endDate"],
            },
        },
        productName=PRODUCT,
        versionDate="2025-08-01T00:00:00",
        schoolYearId=year["id"],
        globalYearId=year["globalYearId"],
        userLanguage="ru",
        organization={"id": school.id, "name": school.short_name},
        organizationName=school.short_name,
    )


@bp.get("/mysettings/mobile/pincode")
def mobile_pincode() -> Response:
    """Issue the one-time code the mobile app exchanges for a bearer token."""
    session = require_session()
    return jsonify(userCode=emulator().state.new_pincode(session.account))
