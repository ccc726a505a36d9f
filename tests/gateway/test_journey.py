"""The walking skeleton over real HTTP: idp_mock, the NetSchool emulator, the gateway."""

from __future__ import annotations

import re
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import PersonalDataConsent
from gateway.models import SchoolCredential
from gateway.models import User
from idp_mock.browser import authorize_at_idp
from tests.support.idp import sign_in

IRINA = ("+79000000001", "parent-demo-1")
ALEXEY = ("a.kuznetsov@example.test", "parent-demo-2")
LYCEUM = "samara-netschool"


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """A gateway on the live stack; CSRF is proven separately, so forms post bare here."""
    return make_stack_app(WTF_CSRF_ENABLED=False)


def _link(client: FlaskClient, login: str, password: str, school: str = "Лицей № 3") -> t.Any:
    return client.post(
        f"/children/link/{LYCEUM}", data={"school": school, "login": login, "password": password}
    )


def test_first_sign_in_creates_the_person_from_verified_claims_and_asks_consent(
    gateway: Flask,
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA, consent=False)
    assert client.get("/").headers["Location"].endswith("/consent")
    assert client.post("/consent", data={"accept": "y"}).status_code == 303
    with gateway.app_context():
        user = db.session.scalar(select(User))
        consent = db.session.scalar(select(PersonalDataConsent))
    assert user.full_name == "Смирнова Ирина Сергеевна"
    assert user.phone == "+79000000001" and user.account_level == "confirmed"
    assert consent.text_version == gateway.config["CONSENT_VERSION"]
    assert consent.accepted_at is not None
    assert "Мои дети" in client.get("/").text


def test_the_worker_and_manifest_fetched_before_consent_are_served_and_not_where_one_lands(
    gateway: Flask,
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA, consent=False)
    assert client.get("/notifications/").headers["Location"].endswith("/consent")
    # The browser fetches these by itself while the consent page is open.
    assert client.get("/sw.js").status_code == 200
    assert client.get("/manifest.webmanifest").status_code == 200
    reply = client.post("/consent", data={"accept": "y"})
    assert reply.status_code == 303 and reply.headers["Location"] == "/notifications/"


def test_a_refused_consent_keeps_the_person_on_the_consent_page(gateway: Flask) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA, consent=False)
    reply = client.post("/consent", data={})
    assert reply.status_code == 200 and "Без согласия" in reply.text
    assert client.get("/children/link").headers["Location"].endswith("/consent")


def test_irina_links_maxim_and_sees_his_marks(gateway: Flask, demo_world: t.Any) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    assert _link(client, "СмирноваИС", "Пароль-2026").status_code == 303
    with gateway.app_context():
        [maxim] = db.session.scalars(select(ChildLink)).all()
        [credential] = db.session.scalars(select(SchoolCredential)).all()
    assert (maxim.display_name, maxim.full_name) == ("Child1", "Смирнов Максим")
    assert "Пароль".encode() not in credential.secret
    page = client.get(f"/child/{maxim.id}")
    assert page.status_code == 200
    assert page.text.count('class="grade"') > 0


def test_alexey_links_both_children_with_one_login(gateway: Flask) -> None:
    client = gateway.test_client()
    sign_in(client, *ALEXEY)
    assert _link(client, "КузнецовАП", "Дарья2015").status_code == 303
    with gateway.app_context():
        links = db.session.scalars(select(ChildLink).order_by(ChildLink.position)).all()
        credentials = db.session.scalars(select(SchoolCredential)).all()
    assert [link.display_name for link in links] == ["Child1", "Child2"]
    assert sorted(link.full_name.split()[1] for link in links) == ["Дарья", "Егор"]
    assert len(credentials) == 1


def test_a_wrong_school_password_stores_nothing(gateway: Flask) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    reply = _link(client, "СмирноваИС", "Пароль-2025")
    assert reply.status_code == 200 and "не приняла логин или пароль" in reply.text
    with gateway.app_context():
        assert db.session.scalars(select(ChildLink)).all() == []
        assert db.session.scalars(select(SchoolCredential)).all() == []


def test_an_unknown_school_is_explained_and_stores_nothing(gateway: Flask) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    reply = _link(client, "СмирноваИС", "Пароль-2026", school="Гимназия № 999")
    assert reply.status_code == 200
    assert "не нашла такую школу" in reply.text
    with gateway.app_context():
        assert db.session.scalars(select(SchoolCredential)).all() == []


def test_sign_out_ends_the_session_and_sends_the_provider_an_id_token_hint(
    gateway: Flask, idp_url: str
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    reply = client.post("/logout")
    assert reply.status_code == 303
    location = urlsplit(reply.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == idp_url
    query = parse_qs(location.query)
    assert query["id_token_hint"] and query["state"]
    assert query["post_logout_redirect_uri"] == ["http://localhost/auth/logged-out"]
    assert "Войти через Госуслуги" in client.get("/").text


def test_a_callback_with_a_forged_state_is_refused(gateway: Flask) -> None:
    client = gateway.test_client()
    start = client.get("/login")
    back = urlsplit(authorize_at_idp(start.headers["Location"], *IRINA))
    query = parse_qs(back.query)
    forged = client.get(
        f"/auth/callback?code={query['code'][0]}&state=forged&iss={query['iss'][0]}"
    )
    assert forged.status_code == 400
    assert "Не удалось войти" in forged.text
    with gateway.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_a_callback_naming_another_issuer_is_refused(gateway: Flask) -> None:
    client = gateway.test_client()
    start = client.get("/login")
    back = urlsplit(authorize_at_idp(start.headers["Location"], *IRINA))
    query = parse_qs(back.query)
    reply = client.get(
        f"/auth/callback?code={query['code'][0]}&state={query['state'][0]}&iss=http://evil.test"
    )
    assert reply.status_code == 400
    with gateway.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_forms_without_a_csrf_token_are_refused(stack_app: Flask) -> None:
    client = stack_app.test_client()
    sign_in(client, *IRINA, consent=False)
    refused = client.post("/consent", data={"accept": "y"})
    assert refused.status_code == 400 and "Форма устарела" in refused.text
    with stack_app.app_context():
        assert db.session.scalars(select(PersonalDataConsent)).all() == []
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/consent").text
    )
    assert token is not None
    accepted = client.post("/consent", data={"accept": "y", "csrf_token": token[1]})
    assert accepted.status_code == 303


def test_irina_links_polina_on_dnevnik_rus_own_sign_in_page(
    gateway: Flask, demo_world: t.Any
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    offer = client.get("/children/link/tver-dnevnik")
    assert "Войти на сайте «Дневник.ру»" in offer.text and 'name="password"' not in offer.text
    away = client.get("/children/link/tver-dnevnik/authorize")
    back = urlsplit(authorize_at_idp(away.headers["Location"], "smirnova.i.s", "Dnevnik-2026"))
    assert back.path == "/children/oauth/callback"
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 303
    with gateway.app_context():
        [polina] = db.session.scalars(select(ChildLink)).all()
        [credential] = db.session.scalars(select(SchoolCredential)).all()
    assert polina.full_name.startswith("Смирнова Полина")
    assert b"Dnevnik-2026" not in credential.secret
    page = client.get(f"/child/{polina.id}")
    assert page.status_code == 200 and page.text.count('class="grade"') > 0


@pytest.mark.parametrize(
    "faults",
    [{"mode": "maintenance"}, {"mode": "5xx"}, {"latency_ms": 1500}],
    ids=["maintenance-page", "server-error", "slower-than-the-timeout"],
)
def test_a_school_system_that_is_down_or_slow_stores_nothing_and_says_so(
    gateway: Flask, netschool_url: str, faults: dict[str, t.Any]
) -> None:
    with gateway.app_context():
        instance = db.session.scalar(
            select(ConnectorInstance).where(ConnectorInstance.key == LYCEUM)
        )
        instance.settings = {**instance.settings, "read_timeout": 0.5}
        db.session.commit()
    client = gateway.test_client()
    sign_in(client, *IRINA)
    requests.post(f"{netschool_url}/__admin/faults", json=faults, timeout=5).raise_for_status()
    try:
        reply = _link(client, "СмирноваИС", "Пароль-2026")
    finally:
        requests.delete(f"{netschool_url}/__admin/faults", timeout=5).raise_for_status()
    assert reply.status_code == 200
    assert "сейчас не отвечает. Ничего не сохранено" in reply.text
    with gateway.app_context():
        assert db.session.scalars(select(SchoolCredential)).all() == []


def test_irina_links_artyom_with_the_sms_code_mesh_asks_for(gateway: Flask, mesh_url: str) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    asked = client.post(
        "/children/link/moscow-mesh",
        data={"login": "irina.smirnova", "password": "Mesh-2026-parent"},
    )
    assert asked.status_code == 303 and asked.headers["Location"].endswith("/code")
    code_page = client.get("/children/link/moscow-mesh/code")
    assert "+7 900 ***-**-01" in code_page.text
    done = client.post("/children/link/moscow-mesh/code", data={"code": "424242"})
    assert done.status_code == 303
    with gateway.app_context():
        [artyom] = db.session.scalars(select(ChildLink)).all()
    assert artyom.full_name.startswith("Смирнов Артём")
    assert client.get(f"/child/{artyom.id}").text.count('class="grade"') > 0


def test_reopening_a_childs_page_does_not_sign_in_to_the_school_system_again(
    gateway: Flask, netschool_url: str
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    requests.post(f"{netschool_url}/__admin/stats/reset", timeout=5).raise_for_status()
    _link(client, "СмирноваИС", "Пароль-2026")
    with gateway.app_context():
        child = db.session.scalar(select(ChildLink.id))
    for _ in range(3):
        assert client.get(f"/child/{child}").status_code == 200
    stats = requests.get(f"{netschool_url}/__admin/stats", timeout=5).json()
    assert stats.get("POST /webapi/login") == 1  # the link's own sign-in, reused afterwards
