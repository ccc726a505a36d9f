"""In Debian's Chromium: a form sent from a tab after signing out in another one says the
person is signed out, and «Войти» leads back to the form."""

from __future__ import annotations

import typing as t

import pytest

from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser

IRINA = ("+79000000001", "parent-demo-1")
FORM = "/children/applications/new"


def test_a_form_sent_after_signing_out_elsewhere_offers_to_sign_in_again(
    page: t.Any, live_gateway: str
) -> None:
    sign_in(page, live_gateway, *IRINA)
    page.goto(live_gateway + FORM)
    page.fill("#child_full_name", "Новикова София Павловна")

    other = page.context.new_page()
    other.goto(live_gateway + "/logout")
    other.get_by_role("button", name="Выйти").click()
    other.wait_for_load_state()

    page.get_by_role("button", name="Отправить заявку").click()
    page.wait_for_load_state()
    assert "Вы вышли из сервиса или сеанс закончился" in page.content()
    assert "Форма устарела" not in page.content()

    page.get_by_role("link", name="Войти", exact=True).click()
    page.fill("#login", IRINA[0])
    page.fill("#password", IRINA[1])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    consent = page.locator("button[name=decision][value=allow]")
    if consent.count():
        consent.click()
        page.wait_for_load_state()
    assert page.url == live_gateway + FORM
    assert page.locator("#child_full_name").count() == 1
