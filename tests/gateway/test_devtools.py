"""/__dev/backends: take a region's system down, slow it or break it, and bring it back.

The page drives the real emulators over HTTP; the family page then shows the last good
data as stale, as a newcomer would see it.
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from gateway.extensions import db
from gateway.models import ConnectorInstance
from tests.e2e.flows import age_snapshots
from tests.support.idp import sign_in
from tests.support.stack import free_port

IRINA = ("+79000000001", "parent-demo-1")
MAXIM = {"school": "Лицей № 3", "login": "СмирноваИС", "password": "Пароль-2026"}
PAGE = "/__dev/backends"
SAMARA = f"{PAGE}/samara-netschool"
LONGER = "работает, каждый запрос дольше на 15 с"
DOWN = "отключена: технические работы"


@pytest.fixture
def netschool_faults(netschool_url: str) -> Iterator[str]:
    """Return the NetSchool emulator's fault admin URL; its faults are cleared afterwards."""
    url = f"{netschool_url}/__admin/faults"
    yield url
    requests.delete(url, timeout=5).raise_for_status()


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """A gateway on the live stack, forms without CSRF (one test proves the tokens)."""
    return make_stack_app(WTF_CSRF_ENABLED=False)


@pytest.fixture
def irina(gateway: Flask) -> FlaskClient:
    """Ирина signed in at the gateway with Максим linked (NetSchool, Samara region)."""
    client = gateway.test_client()
    sign_in(client, *IRINA)
    linked = client.post("/children/link/samara-netschool", data=MAXIM)
    assert linked.status_code in (302, 303), linked.text
    return client


def card(client: FlaskClient, name: str) -> str:
    """Return the text of a child's card on the family page."""
    page = client.get("/").text
    start = page.index(f'data-child="{name}"')
    end = page.find('data-child="', start + 1)
    return re.sub(r"<[^>]+>", " ", page[start : end if end > 0 else len(page)])


def faults(url: str) -> dict[str, t.Any]:
    """Read an emulator's current faults."""
    return dict(requests.get(url, timeout=5).json())


def test_every_registered_backend_is_listed_with_its_state(
    gateway: Flask, netschool_faults: str
) -> None:
    page = gateway.test_client().get(PAGE).text

    for region in ("Москва", "Самарская область", "Тверская область"):
        assert f"<h2>{region}</h2>" in page
    assert page.count("Сейчас: работает") == 3


def test_down_shows_the_last_data_as_stale_and_restore_brings_it_back(
    gateway: Flask, irina: FlaskClient, netschool_faults: str
) -> None:
    fresh = card(irina, "Child1")
    assert "недоступна" not in fresh

    down = irina.post(f"{SAMARA}/down")
    assert down.status_code == 303
    assert faults(netschool_faults)["mode"] == "maintenance"
    assert "Самарская область: отключена: технические работы" in irina.get(PAGE).text
    age_snapshots(gateway)
    stale = card(irina, "Child1")

    assert "Данные на" in stale and "школьная система сейчас недоступна" in stale
    assert irina.post(f"{SAMARA}/restore").status_code == 303
    assert faults(netschool_faults)["mode"] is None
    assert "недоступна" not in card(irina, "Child1")


@pytest.mark.parametrize(
    ("action", "data", "expected", "shown"),
    [
        (
            "slow",
            {"seconds": "15"},
            {"latency_ms": 15000},
            "работает, каждый запрос дольше на 15 с",
        ),
        ("error", {}, {"mode": "5xx"}, "сломана: отвечает ошибкой 503"),
        ("malformed", {}, {"mode": "malformed_json"}, "сломана: отвечает битым JSON"),
        (
            "down",
            {},
            {"mode": "maintenance", "maintenance_status": 503},
            "отключена: технические работы",
        ),
    ],
)
def test_each_button_sets_the_emulators_faults(
    gateway: Flask,
    netschool_faults: str,
    action: str,
    data: dict[str, str],
    expected: dict[str, t.Any],
    shown: str,
) -> None:
    client = gateway.test_client()

    reply = client.post(f"{SAMARA}/{action}", data=data, follow_redirects=True)

    assert reply.status_code == 200
    assert expected.items() <= faults(netschool_faults).items()
    assert f"Самарская область: {shown}" in reply.text


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        ("", "Укажите задержку в секундах."),
        ("   ", "Укажите задержку в секундах."),
        ("abc", "Задержка — целое число секунд от 1 до 120."),
        ("2.5", "Задержка — целое число секунд от 1 до 120."),
        ("0", "Задержка — целое число секунд от 1 до 120."),
        ("121", "Задержка — целое число секунд от 1 до 120."),
    ],
)
def test_a_bad_delay_is_explained_and_kept(
    gateway: Flask, netschool_faults: str, seconds: str, message: str
) -> None:
    reply = gateway.test_client().post(f"{SAMARA}/slow", data={"seconds": seconds})

    assert reply.status_code == 400
    assert message in reply.text
    assert 'aria-invalid="true"' in reply.text
    kept = re.escape(seconds.strip())
    assert re.search(rf'id="seconds-samara-netschool"[^>]*value="{kept}"', reply.text)
    assert faults(netschool_faults)["latency_ms"] == 0


def test_the_buttons_need_the_csrf_token(
    make_stack_app: t.Callable[..., Flask], netschool_faults: str
) -> None:
    client = make_stack_app().test_client()
    page = client.get(PAGE).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token

    forged = client.post(f"{SAMARA}/down")
    assert forged.status_code == 400
    assert faults(netschool_faults)["mode"] is None
    assert client.post(f"{SAMARA}/down", data={"csrf_token": token[1]}).status_code == 303
    assert faults(netschool_faults)["mode"] == "maintenance"


def test_an_emulator_that_does_not_answer_is_reported(gateway: Flask) -> None:
    with gateway.app_context():
        instance = db.session.scalar(
            db.select(ConnectorInstance).where(ConnectorInstance.key == "moscow-mesh")
        )
        instance.base_url = f"http://127.0.0.1:{free_port()}"
        db.session.commit()
    client = gateway.test_client()

    assert "Сейчас: эмулятор не отвечает" in client.get(PAGE).text
    reply = client.post(f"{PAGE}/moscow-mesh/down", follow_redirects=True)
    assert "не отвечает" in reply.text and reply.status_code == 200


@pytest.mark.parametrize("path", [f"{PAGE}/nowhere/down", f"{SAMARA}/explode"])
def test_unknown_backends_and_buttons_are_not_found(gateway: Flask, path: str) -> None:
    assert gateway.test_client().post(path).status_code == 404


def test_the_page_in_english(gateway: Flask, netschool_faults: str) -> None:
    client = gateway.test_client()
    client.get("/lang/en")

    page = client.get(PAGE).text

    assert "Now: working" in page and "Take down" in page


@pytest.mark.parametrize("path", [PAGE, "/__dev/outbox", "/__dev/mail"])
def test_the_development_pages_do_not_exist_in_production(
    make_app: t.Callable[..., Flask], path: str
) -> None:
    production = make_app(PRODUCTION=True, OIDC_CLIENT_SECRET="a-real-secret")

    assert production.test_client().get(path).status_code == 404
    assert production.test_client().post(f"{SAMARA}/down").status_code == 404
