"""In Chromium: Павел applies for София's login; Мария refuses it, then approves the correction.

Павел starts with a simplified account, raises it to standard at the identity provider
(SNILS and passport), and the gateway re-reads his level. His first application carries a
wrong birth date for София; Мария, the Samara region's operator, sees the roster check
disagree and refuses it for that reason; he corrects it without retyping his documents; she
approves, the NetSchool emulator issues a login, and София appears on his family page with
her marks.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from gateway.extensions import db
from gateway.runtime import services
from gateway.services import roles
from gateway.settings import CONFIG_DIR
from tests.e2e.flows import sign_in
from tests.support.live import serving
from tests.support.stack import free_port
from tests.support.stack import idp_app

pytestmark = pytest.mark.browser
CONTEXT = {"locale": "ru-RU", "viewport": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def fresh_idp(tmp_path_factory: pytest.TempPathFactory, gateway_port: int) -> Iterator[str]:
    """An identity provider of its own: Павел's level changes here, and checks run at once."""
    port = free_port()
    database = f"sqlite:///{tmp_path_factory.mktemp('idp-app') / 'idp.sqlite3'}"
    app = idp_app(f"http://127.0.0.1:{port}", database, gateway_port, IDP_LEVEL_CHECK_SECONDS=0)
    with serving(app, port=port) as url:
        yield url


@pytest.fixture
def stack_app(make_stack_app: t.Callable[..., Flask], fresh_idp: str) -> Flask:
    """The live gateway over the fresh provider, with the demo's roles loaded."""
    app = make_stack_app(OIDC_ISSUER=fresh_idp)
    with app.app_context():
        roles.load_file(db.session, Path(CONFIG_DIR / "roles.toml"), now=services().now())
        db.session.commit()
    return app


def _raise_level(page: t.Any, idp: str, gateway: str) -> None:
    page.goto(idp + "/profile/")
    for field, value in {
        "#snils": "987-654-321 83",
        "#birthdate": "17.02.1984",
        "#passport_series": "3604",
        "#passport_number": "918273",
        "#passport_issued_on": "01.03.2004",
        "#passport_issuer_code": "630-010",
    }.items():
        page.fill(field, value)
    page.get_by_role("button", name="Отправить на проверку").click()
    page.goto(gateway + "/children/link")
    page.get_by_role("button", name="Я повысил уровень — проверить снова").click()
    page.wait_for_load_state()


def _fill_application(page: t.Any, child_birth_date: str) -> None:
    page.select_option("#instance", label="Самарская область")
    page.fill("#child_full_name", "Новикова София Павловна")
    page.fill("#child_birth_date", child_birth_date)
    page.fill("#certificate", "IV-ЕР 703512")
    page.fill("#school", "МБОУ Лицей № 3 г. Самары")
    page.fill("#class_name", "8 «А»")
    page.fill("#applicant_full_name", "Новиков Павел Олегович")
    page.fill("#applicant_birth_date", "1984-02-17")
    page.fill("#passport", "36 04 918273")
    page.select_option("#relation", "father")
    page.check("#consent")


def _open_first_application(page: t.Any, gateway: str) -> None:
    page.goto(gateway + "/")
    page.get_by_role("link", name="Кабинет оператора").click()
    page.get_by_role("link", name="Очередь заявок").click()
    page.get_by_role("link", name="Новикова София Павловна").click()


def test_pavel_gets_sofias_login_after_a_correction(
    browser: t.Any, live_gateway: str, fresh_idp: str
) -> None:
    pavel_context, maria_context = browser.new_context(**CONTEXT), browser.new_context(**CONTEXT)
    for context in (pavel_context, maria_context):
        context.set_default_timeout(15_000)
    pavel, maria = pavel_context.new_page(), maria_context.new_page()
    try:
        sign_in(pavel, live_gateway, "+79000000005", "simple-demo-5")
        _raise_level(pavel, fresh_idp, live_gateway)

        pavel.goto(live_gateway + "/children/link")
        pavel.get_by_role("link", name="Подать заявку оператору региона").click()
        pavel.get_by_role("link", name="Подать заявку").click()
        _fill_application(pavel, "2012-10-06")  # a wrong birth date
        pavel.get_by_role("button", name="Отправить заявку").click()
        pavel.get_by_text("Заявка отправлена оператору региона").wait_for()
        assert "срок рассмотрения" in pavel.content()

        sign_in(maria, live_gateway, "+79000000004", "operator-demo-4")
        _open_first_application(maria, live_gateway)
        maria.get_by_text("нет ученика с такими ФИО").wait_for()
        assert "IV-ЕР ****12" in maria.content() and "703512" not in maria.content()
        maria.select_option("#reason", "birth_date_mismatch")
        maria.get_by_role("button", name="Отклонить").click()
        maria.get_by_text("Заявка отклонена, родитель уведомлён").wait_for()

        pavel.goto(live_gateway + "/children/applications/")
        pavel.get_by_text("Дата рождения не совпадает").wait_for()
        pavel.get_by_role("link", name="Исправить и отправить снова").click()
        assert pavel.input_value("#child_full_name") == "Новикова София Павловна"
        assert pavel.input_value("#instance") == "samara-netschool"
        pavel.fill("#child_birth_date", "2012-10-05")
        pavel.check("#consent")
        pavel.get_by_role("button", name="Отправить снова").click()
        pavel.get_by_text("Исправленная заявка отправлена").wait_for()

        _open_first_application(maria, live_gateway)
        maria.get_by_text("есть ученик с такими ФИО").wait_for()
        maria.get_by_role("button", name="Одобрить и привязать").click()
        maria.get_by_text("Заявка одобрена, ребёнок привязан").wait_for()

        pavel.goto(live_gateway + "/children/applications/")
        pavel.get_by_text("Заявка одобрена: Новикова София Павловна").wait_for()
        pavel.get_by_role("link", name="Мои дети").click()
        card = pavel.locator("li.card", has_text="Новикова София")
        card.wait_for()
        assert card.locator(".mark-chip").count() >= 1
    finally:
        pavel_context.close()
        maria_context.close()
