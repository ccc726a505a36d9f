"""Linking against the live emulators: the school as parents type it, MESH's trusted device."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import SchoolCredential
from tests.support.idp import sign_in

IRINA = ("+79000000001", "parent-demo-1")
LYCEUM = "/children/link/samara-netschool"
MESH = "/children/link/moscow-mesh"
ARTYOM = {"login": "irina.smirnova", "password": "Mesh-2026-parent"}


@pytest.fixture
def irina(make_stack_app: t.Callable[..., Flask]) -> tuple[Flask, FlaskClient]:
    """Ирина signed in at a gateway on the live stack (CSRF is proven in test_forms.py)."""
    gateway = make_stack_app(WTF_CSRF_ENABLED=False)
    client = gateway.test_client()
    sign_in(client, *IRINA)
    return gateway, client


def _links(app: Flask) -> list[ChildLink]:
    with app.app_context():
        return list(db.session.scalars(select(ChildLink).order_by(ChildLink.position)))


def _maxim(school: str, **extra: str) -> dict[str, str]:
    return {"school": school, "login": "СмирноваИС", "password": "Пароль-2026", **extra}


@pytest.mark.parametrize("typed", ["лицей 3", "Лицей №3", "ЛИЦЕЙ N 3", "мбоу «лицей № 3»"])
def test_a_school_typed_the_way_parents_write_it_is_found(
    irina: tuple[Flask, FlaskClient], typed: str
) -> None:
    gateway, client = irina
    assert client.post(LYCEUM, data=_maxim(typed)).status_code == 303
    assert [c.full_name for c in _links(gateway)] == ["Смирнов Максим"]


def test_a_school_name_that_fits_several_offers_them_and_keeps_the_form(
    irina: tuple[Flask, FlaskClient],
) -> None:
    gateway, client = irina
    page = client.post(LYCEUM, data=_maxim("Самара", name="Максик"))
    assert page.status_code == 200
    assert "выберите из списка" in page.text
    for offered in ("МБОУ Лицей № 3 г. Самары", "МБОУ Школа № 45 г.о. Самара"):
        assert f'<option value="{offered}">' in page.text
        assert f'name="school_choice" value="{offered}"' in page.text
    assert 'value="СмирноваИС"' in page.text and 'value="Максик"' in page.text
    assert "Пароль-2026" not in page.text
    assert _links(gateway) == []

    chosen = _maxim("Самара", name="Максик", school_choice="МБОУ Лицей № 3 г. Самары")
    assert client.post(LYCEUM, data=chosen).status_code == 303
    assert [(c.display_name, c.full_name) for c in _links(gateway)] == [
        ("Максик", "Смирнов Максим")
    ]


@pytest.mark.parametrize("typed", ["лицей", "Лицей г. Самары"])
def test_a_name_that_says_only_the_kind_of_school_offers_it_instead_of_linking(
    irina: tuple[Flask, FlaskClient], typed: str
) -> None:
    gateway, client = irina
    page = client.post(LYCEUM, data=_maxim(typed))
    assert page.status_code == 200 and "выберите из списка" in page.text
    assert 'name="school_choice" value="МБОУ Лицей № 3 г. Самары"' in page.text
    assert _links(gateway) == []


@pytest.mark.parametrize("typed", ["МБОУ", "№"])
def test_a_name_that_tells_no_school_apart_asks_for_more_and_keeps_the_form(
    irina: tuple[Flask, FlaskClient], typed: str
) -> None:
    gateway, client = irina
    page = client.post(LYCEUM, data=_maxim(typed, name="Максик"))
    assert page.status_code == 200
    assert "допишите номер" in page.text
    assert 'value="СмирноваИС"' in page.text and 'value="Максик"' in page.text
    assert _links(gateway) == []


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_school_gets_its_own_message_with_the_other_errors(
    irina: tuple[Flask, FlaskClient], blank: str
) -> None:
    _, client = irina
    page = client.post(LYCEUM, data={"school": blank, "login": "", "password": ""})
    assert page.status_code == 200
    assert "Укажите школу, в которой учится ребёнок." in page.text
    assert "Введите логин." in page.text and "Введите пароль." in page.text
    assert "не нашла такую школу" not in page.text


def _link_artyom(client: FlaskClient) -> None:
    asked = client.post(MESH, data=ARTYOM)
    assert asked.headers["Location"].endswith("/code")
    assert client.post(f"{MESH}/code", data={"code": "424242"}).status_code == 303


def test_relinking_the_same_mesh_login_reuses_the_trusted_device_and_keeps_the_name(
    irina: tuple[Flask, FlaskClient],
) -> None:
    gateway, client = irina
    _link_artyom(client)
    [artyom] = _links(gateway)
    assert client.post(f"/children/{artyom.id}/rename", data={"name": "Тёма"}).status_code == 303

    again = client.post(MESH, data={**ARTYOM, "name": "Child7"})

    assert again.status_code == 303
    assert not again.headers["Location"].endswith("/code")  # no second SMS
    assert [(c.id, c.display_name) for c in _links(gateway)] == [(artyom.id, "Тёма")]
    with gateway.app_context():
        assert len(db.session.scalars(select(SchoolCredential)).all()) == 1


def test_three_wrong_codes_say_the_code_was_wrong_not_the_password(
    irina: tuple[Flask, FlaskClient],
) -> None:
    gateway, client = irina
    assert client.post(MESH, data=ARTYOM).headers["Location"].endswith("/code")
    replies = [client.post(f"{MESH}/code", data={"code": "000000"}) for _ in range(3)]
    assert all("Неверный код" in r.text for r in replies[:2])
    assert replies[2].status_code == 303
    page = client.get(replies[2].headers["Location"]).text
    assert "Код введён неверно слишком много раз" in page
    assert "логин или пароль" not in page
    assert _links(gateway) == []
