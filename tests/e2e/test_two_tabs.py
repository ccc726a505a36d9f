"""In Debian's Chromium: sign-in started in two tabs of one browser ends signed in in both."""

from __future__ import annotations

import typing as t

import pytest

pytestmark = pytest.mark.browser

IRINA = ("+79000000001", "parent-demo-1")


def open_sign_in(tab: t.Any, gateway: str) -> None:
    """Start sign-in at the gateway and wait for the provider's form."""
    tab.goto(gateway + "/login")
    tab.wait_for_selector("#login")


def submit_password(tab: t.Any) -> None:
    """Fill in Ирина's login and password and send the form."""
    tab.fill("#login", IRINA[0])
    tab.fill("#password", IRINA[1])
    tab.click("button[type=submit]")
    tab.wait_for_load_state()


def finish(tab: t.Any) -> None:
    """Answer whatever consent the provider and the gateway still ask for."""
    allow = tab.locator("button[name=decision][value=allow]")
    if allow.count():
        allow.click()
        tab.wait_for_load_state()
    if tab.locator("#accept").count():
        tab.check("#accept")
        tab.get_by_role("button", name="Продолжить").click()
        tab.wait_for_load_state()


def signed_in_at_the_family_page(tab: t.Any, gateway: str) -> bool:
    """Tell whether the tab shows the gateway's family page to a signed-in person."""
    return tab.url.startswith(gateway) and tab.locator("a[href$='/logout']").count() > 0


def test_both_tabs_end_signed_in_when_each_sends_its_form(page: t.Any, live_gateway: str) -> None:
    other = page.context.new_page()
    open_sign_in(page, live_gateway)
    open_sign_in(other, live_gateway)

    submit_password(page)
    finish(page)
    submit_password(other)
    finish(other)

    for tab in (page, other):
        assert "Форма устарела" not in tab.content()
        assert "Не удалось войти" not in tab.content()
        assert signed_in_at_the_family_page(tab, live_gateway), tab.url


def test_the_second_tab_sent_before_the_first_finishes_also_ends_signed_in(
    page: t.Any, live_gateway: str
) -> None:
    other = page.context.new_page()
    open_sign_in(page, live_gateway)
    open_sign_in(other, live_gateway)

    submit_password(page)
    submit_password(other)
    finish(other)
    finish(page)

    for tab in (page, other):
        assert "Форма устарела" not in tab.content()
        assert "Не удалось войти" not in tab.content()
        assert signed_in_at_the_family_page(tab, live_gateway), tab.url
