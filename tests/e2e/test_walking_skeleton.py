"""In Debian's Chromium: Ирина signs in at the provider, links Максим and sees his marks."""

from __future__ import annotations

import typing as t

import pytest

from gateway.services.periods import last_school_month
from regional_mock.world import demo_today
from tests.e2e.flows import link_maxim
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser


def test_irina_links_maxim_and_sees_exactly_the_marks_the_emulator_serves(
    page: t.Any, live_gateway: str, demo_world: t.Any
) -> None:
    sign_in(page, live_gateway, "+79000000001", "parent-demo-1")
    link_maxim(page)
    page.get_by_text("Готово! Привязаны: Child1 — Смирнов Максим").wait_for()
    page.get_by_role("link", name="Child1").click()
    page.get_by_role("heading", name="Оценки:").wait_for()

    shown = {
        row.get_attribute("data-grade-id"): row.locator(".mark").inner_text()
        for row in page.locator("tr.grade").all()
    }
    assert shown == expected_marks(demo_world, "Смирнов Максим Дмитриевич")


def test_a_wrong_password_at_the_provider_is_explained(page: t.Any, live_gateway: str) -> None:
    page.goto(live_gateway)
    page.get_by_role("link", name="Войти через Госуслуги").click()
    page.fill("#login", "+79000000001")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    page.get_by_text("Неверный логин или пароль").wait_for()
    assert page.url.startswith(live_gateway) is False


def expected_marks(world: t.Any, full_name: str) -> dict[str, str]:
    """The marks the emulator's world holds for a student in the default period."""

    period = last_school_month(demo_today())
    student = world.student_by_name(full_name)
    return {
        str(mark.id): mark.shown
        for mark in world.marks_of(student.id, period.start, period.end)
        if mark.kind != "dot"  # NetSchool's owed-work dot is not a mark; the page leaves it out
    }
