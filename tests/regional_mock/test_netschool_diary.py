"""The NetSchool emulator's data endpoints serve the world in the wire format of the note."""

from __future__ import annotations

import datetime as dt
import html

from flask import Flask
from flask.testing import FlaskClient

from regional_mock.netschool import create_app
from regional_mock.world import World
from tests.regional_mock.conftest import TODAY
from tests.regional_mock.helpers import ALEXEY
from tests.regional_mock.helpers import IRINA
from tests.regional_mock.helpers import MAXIM
from tests.regional_mock.helpers import sign_in

LESSON_KEYS = {
    "classmeetingId", "day", "number", "relay", "room", "startTime", "endTime",
    "subjectName", "isEaLesson", "isDistanceLesson", "assignments",
}  # fmt: skip


def _diary(
    client: FlaskClient, headers: dict[str, str], student: int, start: dt.date, end: dt.date
):
    query = f"studentId={student}&weekStart={start}&weekEnd={end}&yearId=417"
    return client.get(f"/webapi/student/diary?{query}", headers=headers)


def _monday() -> dt.date:
    return TODAY - dt.timedelta(days=TODAY.weekday())


def test_diary_init_lists_both_siblings_with_an_index(client: FlaskClient, world: World) -> None:
    body = client.get("/webapi/student/diary/init", headers=sign_in(client, *ALEXEY)).get_json()
    assert body["currentStudentId"] == 0
    assert [s["nickName"] for s in body["students"]] == ["Кузнецова Дарья", "Кузнецов Егор"]
    first = body["students"][0]
    assert first["studentId"] == world.student_by_name("Кузнецова Дарья Алексеевна").id
    assert (first["className"], first["classId"], first["iupGrade"]) == (None, 0, 0)
    assert body["maxMark"] == 5 and body["weekStart"] == f"{_monday()}T00:00:00"


def test_a_student_of_another_login_is_forbidden(client: FlaskClient, world: World) -> None:
    headers = sign_in(client, *IRINA)
    darya = world.student_by_name("Кузнецова Дарья Алексеевна").id
    assert _diary(client, headers, darya, _monday(), TODAY).status_code == 403
    card = client.get(f"/webapi/student/diary/assigns/1?studentId={darya}", headers=headers)
    assert card.status_code == 403


def test_the_diary_has_the_wire_shape_and_leaves_out_days_without_lessons(
    client: FlaskClient, world: World
) -> None:
    maxim = world.student_by_name(MAXIM)
    start = _monday() - dt.timedelta(days=7)
    body = _diary(
        client, sign_in(client, *IRINA), maxim.id, start, start + dt.timedelta(6)
    ).get_json()
    assert body["weekStart"] == f"{start}T00:00:00" and body["laAssigns"] == []
    assert body["className"] == "10А" and body["termName"] == "3 четверть"
    days = [day["date"][:10] for day in body["weekDays"]]
    assert days == [str(start + dt.timedelta(n)) for n in range(6)]  # Sunday is left out
    lesson = body["weekDays"][0]["lessons"][0]
    assert set(lesson) == LESSON_KEYS and lesson["relay"] == 1
    for day in body["weekDays"]:
        for lesson in day["lessons"]:
            assert all(
                a["classMeetingId"] == lesson["classmeetingId"] for a in lesson["assignments"]
            )


def test_the_diary_serves_exactly_the_worlds_marks_inside_assignments(
    client: FlaskClient, world: World
) -> None:
    maxim = world.student_by_name(MAXIM)
    start, end = world.first_day, world.last_day  # a range longer than a week is accepted
    body = _diary(client, sign_in(client, *IRINA), maxim.id, start, end).get_json()
    served = {
        a["id"]: a
        for day in body["weekDays"]
        for lesson in day["lessons"]
        for a in lesson["assignments"]
        if "mark" in a
    }
    marks = world.marks_of(maxim.id, start, end)
    assert set(served) == {m.id for m in marks}
    for mark in marks:
        item = served[mark.id]
        assert item["mark"]["mark"] == mark.value and item["mark"]["assignmentId"] == mark.id
        assert item["mark"]["dutyMark"] is (mark.kind == "dot")
        assert item["weight"] == mark.weight and item["typeId"] == mark.work_type_id
        assert item.get("markComment") == ({"name": mark.comment} if mark.comment else None)


def test_homework_is_the_type_3_assignment_of_the_lesson_it_is_due_on(
    client: FlaskClient, world: World
) -> None:
    maxim = world.student_by_name(MAXIM)
    body = _diary(client, sign_in(client, *IRINA), maxim.id, _monday(), TODAY).get_json()
    homework = {
        a["id"]: (a, lesson["classmeetingId"])
        for day in body["weekDays"]
        for lesson in day["lessons"]
        for a in lesson["assignments"]
        if a["typeId"] == 3
    }
    expected = world.homework_of(maxim.id, _monday(), TODAY)
    assert set(homework) == {h.id for h in expected}
    for item in expected:
        served, lesson_id = homework[item.id]
        assert served["assignmentName"] == item.text and lesson_id == item.due_lesson_id
        assert "mark" not in served and served["issueClassMeetingId"] == item.issued_lesson_id


def test_a_cancelled_lesson_disappears_and_a_replaced_one_shows_the_new_subject(
    client: FlaskClient, world: World
) -> None:
    maxim = world.student_by_name(MAXIM)
    end = TODAY + dt.timedelta(days=7)
    body = _diary(client, sign_in(client, *IRINA), maxim.id, TODAY, end).get_json()
    served = {x["classmeetingId"]: x for day in body["weekDays"] for x in day["lessons"]}
    lessons = world.lessons_of(maxim.id, TODAY, end)
    [cancelled] = [x for x in lessons if x.status == "cancelled"]
    [replaced] = [x for x in lessons if x.status == "replaced"]
    assert cancelled.id not in served
    assert served[replaced.id]["subjectName"] == replaced.subject


def test_zero_weights_switch_keeps_the_real_weight_on_the_card(world: World) -> None:
    app: Flask = create_app(world, {"NETSCHOOL_DIARY_ZERO_WEIGHTS": True})
    client = app.test_client()
    headers = sign_in(client, *IRINA)
    maxim = world.student_by_name(MAXIM)
    test = next(m for m in world.marks_of(maxim.id, world.first_day, TODAY) if m.weight == 40)
    body = _diary(client, headers, maxim.id, test.date, test.date).get_json()
    weights = {
        a["weight"] for d in body["weekDays"] for x in d["lessons"] for a in x["assignments"]
    }
    assert weights == {0}
    card = client.get(
        f"/webapi/student/diary/assigns/{test.id}?studentId={maxim.id}", headers=headers
    )
    body = card.get_json()
    assert body["weight"] == 40 and body["description"] == test.description
    assert body["teachers"] == [
        {"id": test.teacher_id, "name": world.teacher(test.teacher_id).full_name}
    ]


def test_homework_files_come_from_the_card_and_get_attachments(
    client: FlaskClient, world: World
) -> None:
    headers = sign_in(client, *IRINA)
    maxim = world.student_by_name(MAXIM)
    homework = world.homework_of(maxim.id, world.first_day, world.last_day)
    with_file = next(h for h in homework if h.attachments)
    without = next(h for h in homework if not h.attachments)
    url = f"/webapi/student/diary/get-attachments?studentId={maxim.id}"
    reply = client.post(url, json={"assignId": [with_file.id, without.id]}, headers=headers)
    [entry] = reply.get_json()
    assert entry["assignmentId"] == with_file.id and entry["answerFiles"] == []
    [file] = entry["attachments"]
    assert file["originalFileName"] == with_file.attachments[0].name
    card = client.get(
        f"/webapi/student/diary/assigns/{with_file.id}?studentId={maxim.id}", headers=headers
    )
    assert card.get_json()["attachments"] == entry["attachments"]
    download = client.get(f"/webapi/attachments/{file['id']}", headers=headers)
    assert download.status_code == 200 and download.data == with_file.attachments[0].content


def test_past_mandatory_lists_the_owed_dots(client: FlaskClient, world: World) -> None:
    maxim = world.student_by_name(MAXIM)
    query = f"studentId={maxim.id}&weekStart={_monday()}&weekEnd={TODAY}"
    url = f"/webapi/student/diary/pastMandatory?{query}"
    body = client.get(url, headers=sign_in(client, *IRINA)).get_json()
    dots = [m for m in world.marks_of(maxim.id, world.first_day, TODAY) if m.kind == "dot"]
    assert [item["id"] for item in body] == [m.id for m in dots if m.date < TODAY]
    assert body and {"typeId", "subjectName", "dueDate", "classMeetingId"} <= set(body[0])


def test_announcements_carry_the_meeting_agenda_escaped_twice(
    client: FlaskClient, world: World
) -> None:
    body = client.get("/webapi/announcements?take=-1", headers=sign_in(client, *IRINA)).get_json()
    maxim = world.student_by_name(MAXIM)
    [meeting] = [e for e in world.events_of(maxim.id) if e.kind == "parent_meeting"]
    [served] = [a for a in body if a["id"] == meeting.id]
    assert "&amp;#160;" in served["description"]
    text = html.unescape(html.unescape(served["description"]))
    assert all(item in text for item in meeting.agenda)
    assert served["author"]["fio"] == world.teacher(meeting.author_id).full_name
    asks = [m for m in world.messages_of(maxim.id) if m.needs_acknowledgement]
    assert {m.id for m in asks} <= {a["id"] for a in body}


def test_types_years_context_and_pincode(client: FlaskClient) -> None:
    headers = sign_in(client, *IRINA)
    active = client.get("/webapi/grade/assignment/types?all=false", headers=headers).get_json()
    every = client.get("/webapi/grade/assignment/types?all=true", headers=headers).get_json()
    assert {"id": 3, "name": "Домашнее задание", "abbr": "ДЗ", "order": 15} in active
    assert len(every) > len(active) and all("isActive" in t for t in every)
    year = client.get("/webapi/years/current", headers=headers).get_json()
    assert (year["id"], year["name"], year["startDate"]) == (
        417,
        "2025/2026",
        "2025-09-01T00:00:00",
    )
    context = client.get("/webapi/context", headers=headers).get_json()
    assert context["schoolId"] == 63003 and context["schoolYearId"] == 417
    code = client.get("/webapi/mysettings/mobile/pincode", headers=headers).get_json()["userCode"]
    assert code.isdigit()
