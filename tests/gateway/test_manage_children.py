"""Rename, reorder and unlink children; only the parent's own."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Student
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import SchoolCredential
from gateway.models import SectionSnapshot
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool


def _linked(parent: FlaskClient, app: Flask) -> list[int]:
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with app.app_context():
        return list(db.session.scalars(select(ChildLink.id).order_by(ChildLink.position)))


def _order(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(ChildLink.display_name).order_by(ChildLink.position)))


def test_a_child_can_be_renamed_and_blank_names_are_refused(
    parent: FlaskClient, fake_app: Flask
) -> None:
    anna, _ = _linked(parent, fake_app)
    parent.post(f"/children/{anna}/rename", data={"name": "  Аня  "})
    assert _order(fake_app) == ["Аня", "Child2"]
    refused = parent.post(f"/children/{anna}/rename", data={"name": "   "}, follow_redirects=True)
    assert "Введите имя." in refused.text
    assert _order(fake_app) == ["Аня", "Child2"]


def test_a_pasted_long_name_is_refused_with_a_message_and_kept_to_correct(
    parent: FlaskClient, fake_app: Flask
) -> None:
    anna, _ = _linked(parent, fake_app)
    pasted = "Анна Ивановна, ученица третьего класса «А» гимназии"
    assert len(pasted) > 40
    page = parent.get("/children/").text
    assert "maxlength" not in page  # a browser would cut the paste without a word
    refused = parent.post(f"/children/{anna}/rename", data={"name": pasted})
    assert refused.status_code == 200
    assert "Сохранено" not in refused.text
    assert "Имя — не больше 40 знаков." in refused.text
    assert f'value="{pasted}"' in refused.text
    assert _order(fake_app) == ["Child1", "Child2"]


def test_children_can_be_reordered(parent: FlaskClient, fake_app: Flask) -> None:
    _, petr = _linked(parent, fake_app)
    parent.post(f"/children/{petr}/move/up")
    assert _order(fake_app) == ["Child2", "Child1"]
    family = parent.get("/").text
    assert family.index('data-child="Child2"') < family.index('data-child="Child1"')


def test_unlinking_asks_first_then_forgets_the_child_and_unused_credentials(
    parent: FlaskClient, fake_app: Flask
) -> None:
    anna, petr = _linked(parent, fake_app)
    parent.get("/")  # snapshots exist
    assert "Перестать отслеживать" in parent.get(f"/children/{anna}/unlink").text
    assert _order(fake_app) == ["Child1", "Child2"]
    parent.post(f"/children/{anna}/unlink")
    with fake_app.app_context():
        assert db.session.scalars(select(SchoolCredential)).all() != []  # Пётр still uses it
        snapshots = {row.link_id for row in db.session.scalars(select(SectionSnapshot))}
    assert anna not in snapshots
    parent.post(f"/children/{petr}/unlink")
    with fake_app.app_context():
        assert db.session.scalars(select(SchoolCredential)).all() == []


def test_another_parent_cannot_rename_move_or_unlink(parent: FlaskClient, fake_app: Flask) -> None:
    anna, _ = _linked(parent, fake_app)
    stranger = signed_in(fake_app, make_parent(fake_app, subject="p2", name="Петров Олег"))
    assert stranger.post(f"/children/{anna}/rename", data={"name": "x"}).status_code == 404
    assert stranger.post(f"/children/{anna}/move/down").status_code == 404
    assert stranger.post(f"/children/{anna}/unlink").status_code == 404
    assert _order(fake_app) == ["Child1", "Child2"]


@pytest.mark.parametrize("name", ["Аня\x00", "\x00", "Аня\x1b[31m", "Аня\nПетя", "Аня\x7f"])
def test_control_characters_in_a_name_are_refused_with_a_message(
    parent: FlaskClient, fake_app: Flask, name: str
) -> None:
    anna, _ = _linked(parent, fake_app)
    refused = parent.post(f"/children/{anna}/rename", data={"name": name})
    assert refused.status_code == 200
    assert "Уберите служебные символы" in refused.text
    assert _order(fake_app) == ["Child1", "Child2"]


def test_control_characters_a_backend_sends_in_a_name_are_not_stored(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    school.accounts["odd"] = (
        "pw",
        [
            Student(
                id="s9", full_name="Иванова\x00 Вера\x07", school="Лицей\x00", class_name="1\x00А"
            )
        ],
    )
    linked = parent.post("/children/link/test-fake", data={"login": "odd", "password": "pw"})
    assert linked.status_code == 303
    with fake_app.app_context():
        [child] = db.session.scalars(select(ChildLink)).all()
        assert (child.full_name, child.school, child.class_name) == ("Иванова Вера", "Лицей", "1А")
