"""In Chromium: Ирина links all three children, each from a different regional system."""

from __future__ import annotations

import typing as t
from collections import Counter

import pytest

from gateway.services.periods import last_school_month
from regional_mock.world import demo_today
from tests.e2e.flows import link_three
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser


def _marks_on_page(page: t.Any, child: str) -> Counter[tuple[str, str, str]]:
    page.get_by_role("link", name="Мои дети").click()
    page.get_by_role("link", name=child).click()
    page.get_by_role("heading", name="Оценки:").wait_for()
    return Counter(
        (
            row.get_attribute("data-date"),
            row.get_attribute("data-subject"),
            row.locator(".mark").inner_text(),
        )
        for row in page.locator("tr.grade").all()
    )


def _marks_in_world(world: t.Any, full_name: str) -> Counter[tuple[str, str, str]]:
    period = last_school_month(demo_today())
    student = world.student_by_name(full_name)
    return Counter(
        (mark.date.isoformat(), mark.subject, mark.shown)
        for mark in world.marks_of(student.id, period.start, period.end)
        if mark.kind != "dot"  # NetSchool's owed-work dot is not a mark
    )


def test_irina_links_three_children_from_three_systems(
    page: t.Any, live_gateway: str, demo_world: t.Any
) -> None:
    sign_in(page, live_gateway, "+79000000001", "parent-demo-1")
    link_three(page)

    for child, full_name in (
        ("Child1", "Смирнов Артём Дмитриевич"),
        ("Child2", "Смирнова Полина Дмитриевна"),
        ("Child3", "Смирнов Максим Дмитриевич"),
    ):
        assert _marks_on_page(page, child) == _marks_in_world(demo_world, full_name), child
