"""In Chromium: Ирина shares Полина's schedule and homework with Галина, then revokes it.

Ирина works at a desktop, Галина on a 360 px phone: each page says who is signed in, and
Галина's says whose invitation opened the diary she is looking at.
"""

from __future__ import annotations

import typing as t

import pytest
import requests

from tests.e2e.axe import violations
from tests.e2e.flows import link_polina
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _serious(page: t.Any) -> list[str]:
    found = violations(page)
    return [
        f"{v['id']}: {v['targets'][:3]}" for v in found if v["impact"] in ("serious", "critical")
    ]


def _invite_galina(irina: t.Any) -> None:
    irina.get_by_role("link", name="Доверенные лица").click()
    irina.get_by_role("link", name="Пригласить").click()
    irina.fill("#name", "Смирнова Галина Ивановна")
    irina.fill("#phone", "+7 900 000-00-03")
    irina.check("input[value=schedule]")
    irina.check("input[value=homework]")
    irina.get_by_role("button", name="Отправить приглашение").click()
    # Only a phone was given: the link went by SMS, and the page says so and nothing more.
    irina.get_by_text("Приглашение отправлено по СМС на +79000000003. Ссылка действует").wait_for()


def _galina_accepts(galina: t.Any, link: str) -> None:
    galina.goto(link)  # not signed in yet: who invites, to what, and how to sign in
    galina.get_by_role("heading", name="Смирнова Ирина Сергеевна открывает вам дневник").wait_for()
    galina.get_by_text("Полина (Child1): Расписание, Домашние задания").wait_for()
    assert "Смирнова Полина" not in galina.content()  # a first name only, before sign-in
    galina.get_by_role("link", name="Зарегистрируйтесь").wait_for()
    galina.get_by_role("link", name="Войти через Госуслуги").click()
    galina.fill("#login", "+79000000003")
    galina.fill("#password", "granny-demo-3")
    galina.click("button[type=submit]")
    galina.wait_for_load_state()
    if galina.locator("button[name=decision][value=allow]").count():
        galina.click("button[name=decision][value=allow]")
    consent = galina.locator(".consent-text").inner_text()
    assert "Смирнова Ирина Сергеевна открывает вам доступ к разделам дневника" in consent
    assert "логины и пароли от школьных систем" not in consent
    galina.check("#accept")
    galina.get_by_role("button", name="Продолжить").click()
    galina.get_by_role("button", name="Принять").click()


def test_galina_sees_exactly_what_irina_shared_until_it_is_revoked(
    browser: t.Any, live_gateway: str
) -> None:
    irina_context = browser.new_context(locale="ru-RU", viewport=DESKTOP)
    # bypass_csp: axe-core is injected as a script, as in test_accessibility.
    galina_context = browser.new_context(locale="ru-RU", viewport=PHONE, bypass_csp=True)
    irina, galina = irina_context.new_page(), galina_context.new_page()
    try:
        sign_in(irina, live_gateway, "+79000000001", "parent-demo-1")
        assert irina.locator(".whoami .name-full").inner_text() == "Смирнова Ирина Сергеевна"
        link_polina(irina)
        irina.get_by_text("Привязаны: Child1 — Смирнова Полина").wait_for()
        _invite_galina(irina)

        sent = requests.get(f"{live_gateway}/__dev/outbox?format=json", timeout=5).json()
        link = next(m["link"] for m in sent["messages"] if m["to"] == "+79000000003")
        _galina_accepts(galina, link)

        # Accepting lands on the shared diary, which says whose invitation opened it.
        galina.get_by_text("Приглашение принято. Доступ открыт.").wait_for()
        assert "/child/" in galina.url
        viewing = galina.locator("header .viewing")
        assert viewing.inner_text() == (
            "Вы смотрите дневник «Child1 — Смирнова Полина» по приглашению Смирновой Ирины."
        )
        # At 360 px the header shows the short form; screen readers still get the full name.
        assert galina.locator(".whoami .name-short").is_visible()
        assert galina.locator(".whoami .name-short").inner_text() == "Смирнова Г. И."
        assert galina.get_by_text("Смирнова Галина Ивановна").count() == 1
        header = galina.locator("header").bounding_box()
        assert header["width"] <= PHONE["width"]
        assert galina.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert _serious(galina) == []
        tabs = galina.locator("nav.tabs a").all_inner_texts()
        assert tabs == ["Расписание", "Домашние задания"]
        child_url = galina.url.split("?")[0]
        assert galina.goto(child_url + "?section=grades").status == 404

        # Revoking asks first, on a page of its own that works without scripts.
        irina.get_by_role("link", name="Доверенные лица").click()
        irina.get_by_role("link", name="Закрыть доступ…").click()
        irina.get_by_role("heading", name="Закрыть доступ?").wait_for()
        irina.get_by_text("Смирнова Галина Ивановна сразу перестанет видеть:").wait_for()
        irina.get_by_role("button", name="Закрыть доступ").click()
        irina.get_by_text("Доступ закрыт").wait_for()

        revoked = galina.goto(child_url)
        assert revoked.status == 410
        galina.get_by_role("heading", name="Доступ отозван").wait_for()
        assert "Смирнова Ирина Сергеевна закрыл(а) вам доступ" in galina.content()
        irina.get_by_role("link", name="Журнал доступа").click()
        assert irina.locator("tr.audit-viewed").count() >= 1
    finally:
        irina_context.close()
        galina_context.close()
