"""Every HTTP error a person can meet is the service's own page, in their language."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask import abort
from flask.testing import FlaskClient

from tests.gateway.conftest import FAKE_CLASSES
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.forms_world import token_of


def _with_aborting_route(app: Flask) -> Flask:
    """Give the app a route that answers the status in its path, as a view's abort() does."""

    def fail(code: int) -> t.NoReturn:
        abort(code)

    app.add_url_rule("/test-abort/<int:code>", "test_abort", fail)
    return app


def _is_styled(page: str) -> bool:
    """The base layout's skip link and the way home are there; Werkzeug's page has neither."""
    return 'class="skip"' in page and 'href="/"' in page and "Werkzeug" not in page


def test_a_get_to_a_post_only_address_is_a_styled_405_that_keeps_allow(
    parent: FlaskClient,
) -> None:
    reply = parent.get("/child/1/refresh")
    assert reply.status_code == 405
    assert "POST" in reply.headers["Allow"]
    assert _is_styled(reply.text)
    assert "её открывает кнопка на странице" in reply.text


def test_the_405_page_speaks_english_when_asked(fake_app: Flask) -> None:
    reply = fake_app.test_client().get(
        "/auth/backchannel-logout", headers={"Accept-Language": "en"}
    )
    assert reply.status_code == 405
    assert "POST" in reply.headers["Allow"]
    assert _is_styled(reply.text)
    assert '<html lang="en">' in reply.text
    assert "a button on the service" in reply.text


@pytest.mark.parametrize(
    ("code", "russian", "english"),
    [
        (400, "Не удалось разобрать запрос", "could not be read"),
        (403, "нет доступа", "no access"),
        (410, "больше нет", "no longer exists"),
        (418, "Не удалось открыть страницу", "could not be opened"),
        (503, "Сервис сейчас недоступен", "unavailable"),
    ],
)
def test_other_errors_keep_their_status_on_a_styled_page(
    make_app: t.Callable[..., Flask], code: int, russian: str, english: str
) -> None:
    client = _with_aborting_route(make_app()).test_client()
    reply = client.get(f"/test-abort/{code}")
    assert reply.status_code == code
    assert _is_styled(reply.text)
    assert russian in reply.text
    in_english = client.get(f"/test-abort/{code}", headers={"Accept-Language": "en"})
    assert in_english.status_code == code
    assert english in in_english.text


def test_the_error_page_leads_back_to_the_page_it_came_from(
    make_app: t.Callable[..., Flask],
) -> None:
    client = _with_aborting_route(make_app()).test_client()
    reply = client.get(
        "/test-abort/400", headers={"Referer": "http://localhost/children/applications/new?child=2"}
    )
    assert 'href="/children/applications/new?child=2"' in reply.text


def test_the_specific_pages_keep_their_own_words(client: FlaskClient) -> None:
    reply = client.get("/no-such-page")
    assert reply.status_code == 404
    assert "Такой страницы нет." in reply.text


def test_a_json_client_gets_json_with_the_status(make_app: t.Callable[..., Flask]) -> None:
    client = _with_aborting_route(make_app()).test_client()
    reply = client.get("/test-abort/403", headers={"Accept": "application/json"})
    assert reply.status_code == 403
    assert reply.json == {"error": "У вас нет доступа к этой странице."}


@pytest.fixture
def csrf_app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Flask:
    """A gateway that checks form tokens, as production does."""
    return make_app(CONNECTOR_CLASSES=FAKE_CLASSES)


def _open_form(app: Flask) -> tuple[FlaskClient, str]:
    """Sign a parent in, open the application form, and return the client and its token."""
    client = signed_in(app, make_parent(app))
    page = client.get("/children/applications/new")
    assert page.status_code == 200
    return client, token_of(page.text)


def test_a_form_sent_after_signing_out_in_another_tab_offers_to_sign_in(csrf_app: Flask) -> None:
    client, token = _open_form(csrf_app)
    with client.session_transaction() as state:
        state.clear()  # what signing out in another tab leaves in this browser
    reply = client.post(
        "/children/applications/new",
        data={"csrf_token": token, "name": "Павел"},
        headers={"Referer": "http://localhost/children/applications/new"},
    )
    assert reply.status_code == 400
    assert "Вы вышли из сервиса или сеанс закончился" in reply.text
    assert "Форма устарела" not in reply.text
    assert 'href="/login?next=/children/applications/new">Войти</a>' in reply.text


def test_the_signed_out_form_page_speaks_english(csrf_app: Flask) -> None:
    client, token = _open_form(csrf_app)
    with client.session_transaction() as state:
        state.clear()
        state["lang"] = "en"
    reply = client.post("/children/applications/new", data={"csrf_token": token})
    assert reply.status_code == 400
    assert "You are signed out or your session has ended" in reply.text
    assert ">Sign in</a>" in reply.text


def test_a_stale_form_of_a_signed_in_person_keeps_the_stale_form_message(csrf_app: Flask) -> None:
    client, _token = _open_form(csrf_app)
    reply = client.post("/children/applications/new", data={"csrf_token": "not-the-token"})
    assert reply.status_code == 400
    assert "Форма устарела" in reply.text
    assert "Вы вышли" not in reply.text
