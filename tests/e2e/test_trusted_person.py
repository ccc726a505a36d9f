"""In Chromium: Ирина shares Полина's schedule and homework with Галина, then revokes it."""

from __future__ import annotations

import typing as t

import pytest
import requests

from tests.e2e.flows import link_polina
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser


def test_galina_sees_exactly_what_irina_shared_until_it_is_revoked(
    browser: t.Any, live_gateway: str
) -> None:
    irina_context = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844})
    galina_context = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844})
    irina, galina = irina_context.new_page(), galina_context.new_page()
    try:
        sign_in(irina, live_gateway, "+79000000001", "parent-demo-1")
        link_polina(irina)
        irina.get_by_text("Привязаны: Child1 — Смирнова Полина").wait_for()
        irina.get_by_role("link", name="Доверенные лица").click()
        irina.get_by_role("link", name="Пригласить").click()
        irina.fill("#name", "Смирнова Галина Ивановна")
        irina.fill("#phone", "+7 900 000-00-03")
        irina.check("input[value=schedule]")
        irina.check("input[value=homework]")
        irina.get_by_role("button", name="Отправить приглашение").click()
        irina.get_by_text("Приглашение отправлено").wait_for()

        sent = requests.get(f"{live_gateway}/__dev/outbox?format=json", timeout=5).json()
        link = next(m["link"] for m in sent["messages"] if m["to"] == "+79000000003")
        galina.goto(link)  # not signed in yet: the gateway asks her to sign in or register
        galina.get_by_role("link", name="Зарегистрируйтесь").wait_for()
        galina.get_by_role("link", name="Войти через Госуслуги").click()
        galina.fill("#login", "+79000000003")
        galina.fill("#password", "granny-demo-3")
        galina.click("button[type=submit]")
        galina.wait_for_load_state()
        if galina.locator("button[name=decision][value=allow]").count():
            galina.click("button[name=decision][value=allow]")
        galina.check("#accept")
        galina.get_by_role("button", name="Продолжить").click()
        galina.get_by_role("button", name="Принять").click()
        galina.get_by_text("действует").wait_for()

        galina.get_by_role("link", name="Мои дети").click()
        galina.get_by_text("Доступ от Смирнова Ирина Сергеевна").wait_for()
        galina.get_by_role("link", name="Child1").click()
        tabs = galina.locator("nav.tabs a").all_inner_texts()
        assert tabs == ["Расписание", "Домашние задания"]
        child_url = galina.url.split("?")[0]
        assert galina.goto(child_url + "?section=grades").status == 404

        irina.get_by_role("link", name="Доверенные лица").click()
        irina.get_by_role("button", name="Закрыть доступ").click()
        irina.get_by_text("Доступ закрыт").wait_for()
        assert galina.goto(child_url).status == 404
        irina.get_by_role("link", name="Журнал доступа").click()
        assert irina.locator("tr.audit-viewed").count() >= 1
    finally:
        irina_context.close()
        galina_context.close()
