"""In Chromium: a teacher's day at the NetSchool emulator reaches Ирина through the sync.

The teacher works on the emulator's development page, in a tab of her own; the gateway's
background sync (its tick and a worker's run, driven here in the test's process) reads the
diary; the parent's pages show the new mark with its comment, and a cancelled lesson of a
system that never says so.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
from flask import Flask

from regional_mock.day_client import DayClient
from regional_mock.world import demo_today
from tests.e2e.flows import link_maxim
from tests.e2e.flows import sign_in
from tests.gateway.sync.helpers import drain
from tests.gateway.sync.helpers import due_now

pytestmark = pytest.mark.browser
MAXIM = "Смирнов Максим Дмитриевич"


def test_a_mark_and_a_cancelled_lesson_reach_the_parent_after_the_sync(
    page: t.Any,
    live_gateway: str,
    stack_app: Flask,
    netschool_url: str,
    netschool_day: DayClient,
    demo_world: t.Any,
) -> None:
    sign_in(page, live_gateway, "+79000000001", "parent-demo-1")
    link_maxim(page)
    page.get_by_text("Готово! Привязаны: Child1 — Смирнов Максим").wait_for()
    drain(stack_app)  # the baseline and the school year

    teacher = page.context.new_page()
    teacher.goto(f"{netschool_url}/__admin/day/page")
    teacher.select_option("select[name=student]", label=MAXIM)
    teacher.get_by_role("button", name="Выбрать").click()
    mark = teacher.locator("fieldset", has_text="Поставить оценку")
    mark.locator("select[name=value]").select_option("2")
    mark.locator("input[name=comment]").fill("Забыл тетрадь")
    with teacher.expect_navigation():  # the notice is on the page the form leads to
        mark.get_by_role("button", name="Поставить").click()
    assert teacher.get_by_role("status").count() == 1

    student = demo_world.student_by_name(MAXIM)
    tomorrow = demo_today() + dt.timedelta(days=1)
    coming = sorted(
        (
            x
            for x in demo_world.lessons_of(student.id, tomorrow, tomorrow + dt.timedelta(days=6))
            if x.status == "planned"
        ),
        key=lambda x: (x.date, x.number),
    )
    cancel = teacher.locator("fieldset", has_text="Отменить урок")
    cancel.locator("select[name=lesson_id]").select_option(str(coming[0].id))
    with teacher.expect_navigation():  # the notice is on the page the form leads to
        cancel.get_by_role("button", name="Отменить").click()
    assert teacher.get_by_role("status").count() == 1

    due_now(stack_app)
    drain(stack_app)
    page.goto(live_gateway)
    page.get_by_role("link", name="Child1").click()
    grades = page.locator("main").inner_text()
    assert "Забыл тетрадь" in grades
    day = coming[0].date
    child_page = page.url.split("?")[0]
    page.goto(f"{child_page}?section=schedule&start={day}&end={day}")
    cancelled = page.locator("li.lesson.status-cancelled")
    assert cancelled.count() == 1 and coming[0].subject in cancelled.inner_text()
    assert "отменён" in cancelled.inner_text()
