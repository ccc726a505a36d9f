"""In Chromium: a regional system goes down; a school changes a parent's password."""

from __future__ import annotations

import typing as t

import pytest
import requests
from flask import Flask

from tests.e2e.flows import age_snapshots
from tests.e2e.flows import link_maxim
from tests.e2e.flows import link_three
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser
IRINA = ("+79000000001", "parent-demo-1")


def _card(page: t.Any, child: str) -> str:
    return str(page.locator(f'li.card[data-child="{child}"]').inner_text())


def test_one_system_down_shows_its_last_data_as_stale_and_the_others_fresh(
    page: t.Any, live_gateway: str, stack_app: Flask, mesh_url: str
) -> None:
    sign_in(page, live_gateway, *IRINA)
    link_three(page)
    page.goto(live_gateway)
    artyom_before = _card(page, "Child1")
    age_snapshots(stack_app)
    requests.post(f"{mesh_url}/__admin/faults", json={"mode": "5xx"}, timeout=5)
    try:
        page.goto(live_gateway)
        artyom = _card(page, "Child1")
    finally:
        requests.delete(f"{mesh_url}/__admin/faults", timeout=5)
    assert "Данные на" in artyom and "недоступна" in artyom
    assert artyom.split("Сегодня")[-1][:40] in artyom_before  # the same, older data
    for child in ("Child2", "Child3"):
        assert "недоступна" not in _card(page, child)


def _set_password(netschool_url: str, password: str) -> None:
    requests.post(
        f"{netschool_url}/__admin/netschool/password",
        json={"login": "СмирноваИС", "password": password},
        timeout=5,
    ).raise_for_status()


def test_a_changed_school_password_asks_for_a_relink_that_keeps_the_child(
    page: t.Any,
    live_gateway: str,
    stack_app: Flask,
    netschool_url: str,
    request: pytest.FixtureRequest,
) -> None:
    sign_in(page, live_gateway, *IRINA)
    link_maxim(page)
    page.get_by_role("link", name="Child1").click()
    child_url = page.url.split("?")[0]
    _set_password(netschool_url, "Пароль-2027")
    request.addfinalizer(lambda: _set_password(netschool_url, "Пароль-2026"))
    age_snapshots(stack_app)
    page.goto(child_url)
    page.get_by_text("Школьная система не принимает сохранённый пароль").wait_for()
    page.get_by_role("link", name="Ввести логин и пароль заново").click()
    page.fill("#school", "Лицей № 3")
    page.fill("#login", "СмирноваИС")
    page.fill("#password", "Пароль-2027")
    page.get_by_role("button", name="Проверить и привязать").click()
    page.get_by_text("Привязаны: Child1 — Смирнов Максим").wait_for()
    page.goto(child_url)  # the same child page: the link and its history were kept
    assert page.locator("tr.grade").count() > 0
    assert "не принимает" not in page.content()
