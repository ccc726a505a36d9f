"""A teacher's day at the emulators reaches the gateway's store as changes, over HTTP: a
mark added, edited after the fact and deleted; an absence; homework; a lesson replaced and
one cancelled on a system that marks neither, which the schedule then shows."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import RecordChange
from regional_mock.day_client import DayClient
from regional_mock.world import demo_today
from tests.gateway.demo_children import IRINA
from tests.gateway.demo_children import link_child
from tests.gateway.sync.helpers import drain
from tests.gateway.sync.helpers import due_now
from tests.support.idp import sign_in

MAXIM = "Смирнов Максим"


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    return make_stack_app(WTF_CSRF_ENABLED=False)


def _changes(app: Flask) -> list[tuple[str, str, t.Any, t.Any]]:
    with app.app_context():
        rows = db.session.scalars(select(RecordChange).order_by(RecordChange.id)).all()
        return [(c.section, c.kind.value, c.before, c.after) for c in rows]


def _sync_again(app: Flask) -> list[tuple[str, str, t.Any, t.Any]]:
    seen = len(_changes(app))
    due_now(app)
    drain(app)
    return _changes(app)[seen:]


def _lessons(demo_world: t.Any, start: dt.date, end: dt.date) -> list[t.Any]:
    student = demo_world.student_by_name("Смирнов Максим Дмитриевич")
    found = demo_world.lessons_of(student.id, start, end)
    return sorted((x for x in found if x.status == "planned"), key=lambda x: (x.date, x.number))


def test_a_teachers_day_at_netschool_becomes_changes_and_the_schedule_shows_them(
    gateway: Flask, netschool_day: DayClient, demo_world: t.Any
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    child = link_child(gateway, client, "netschool")
    drain(gateway)
    assert _changes(gateway) == []  # the baseline and the school year are not news

    today = demo_today()
    [*_, taught] = _lessons(demo_world, today - dt.timedelta(days=6), today)
    mark = netschool_day.add_mark(
        student="Максим", lesson_id=taught.id, value=2, comment="Не готов к уроку"
    )
    [(section, kind, before, after)] = _sync_again(gateway)
    assert (section, kind, before) == ("grades", "added", None)
    assert after["value"] == "2" and after["comment"] == "Не готов к уроку"
    assert _sync_again(gateway) == []  # the same diary twice is no news

    netschool_day.edit_mark(mark["id"], value=3)
    [(section, kind, before, after)] = _sync_again(gateway)
    assert (section, kind, before["value"], after["value"]) == ("grades", "modified", "2", "3")
    assert before["id"] == after["id"]

    netschool_day.delete_mark(mark["id"])
    [(section, kind, before, after)] = _sync_again(gateway)
    assert (section, kind, before["value"], after) == ("grades", "removed", "3", None)

    coming = _lessons(demo_world, today + dt.timedelta(days=1), today + dt.timedelta(days=6))
    replaced, cancelled, assigned = coming[0], coming[1], coming[2]
    netschool_day.mark_absence(student="Максим", lesson_id=taught.id, kind="unexcused")
    netschool_day.set_homework(lesson_id=assigned.id, text="Параграф 12, задачи 1–5")
    found = {section: (kind, after) for section, kind, _, after in _sync_again(gateway)}
    assert found["attendance"][0] == "added" and found["attendance"][1]["kind"] == "unexcused"
    # New homework, or new text for homework the lesson already had.
    assert found["homework"][0] in ("added", "modified")
    assert found["homework"][1]["text"] == "Параграф 12, задачи 1–5"

    other = next(x.subject for x in coming if x.subject != replaced.subject)
    netschool_day.replace_lesson(replaced.id, subject=other)
    netschool_day.cancel_lesson(cancelled.id)
    # The replaced lesson's homework now names the new subject too: that is news as well.
    changed = _sync_again(gateway)
    assert sorted(kind for section, kind, _, _ in changed if section == "schedule") == [
        "modified",
        "removed",
    ]

    start, end = today + dt.timedelta(days=1), today + dt.timedelta(days=6)
    page = client.get(f"/child/{child}?section=schedule&start={start}&end={end}").text
    assert page.count('class="lesson status-replaced"') == 1
    assert f"вместо: {replaced.subject}" in page
    assert page.count('class="lesson status-cancelled"') == 1


def test_unlinking_deletes_the_childs_synced_records_and_changes_at_once(
    gateway: Flask, netschool_day: DayClient
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    child = link_child(gateway, client, "netschool")
    drain(gateway)
    with gateway.app_context():
        kept = db.session.scalar(select(sa.func.count()).select_from(sa.table("synced_records")))
    assert kept
    assert client.post(f"/children/{child}/unlink").status_code in (302, 303)
    with gateway.app_context():
        for table in ("synced_records", "record_changes", "sync_due", "section_snapshots"):
            count = db.session.scalar(select(sa.func.count()).select_from(sa.table(table)))
            assert count == 0, table
