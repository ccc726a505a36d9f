"""Roles: administrators and regional operators, granted by CLI, config file or admin page."""

from __future__ import annotations

from flask import Flask

from gateway.extensions import db
from gateway.models import User
from gateway.services import roles
from gateway.settings import CONFIG_DIR
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in


def _regions(app: Flask, user_id: int) -> set[str]:
    with app.app_context():
        return roles.operator_regions(db.session, db.session.get(User, user_id))


def _claim(app: Flask, user_id: int) -> int:
    with app.app_context():
        count = roles.claim_pending(db.session, db.session.get(User, user_id))
        db.session.commit()
        return count


def test_a_role_granted_to_a_phone_waits_for_the_first_sign_in(operator_app: Flask) -> None:
    runner = operator_app.test_cli_runner()
    out = runner.invoke(args=["roles", "grant-operator", "+7 900 000-00-04", "63"]).output
    assert "waiting for first sign-in" in out

    maria = make_person(operator_app, "maria", "Орлова Мария Андреевна", phone="+79000000004")
    assert _regions(operator_app, maria) == set()
    assert _claim(operator_app, maria) == 1
    assert _regions(operator_app, maria) == {"63"}
    assert "Орлова Мария Андреевна" in runner.invoke(args=["roles", "list"]).output

    runner.invoke(args=["roles", "revoke-operator", "maria", "63"])
    assert _regions(operator_app, maria) == set()


def test_the_demo_roles_file_makes_maria_the_samara_operator(operator_app: Flask) -> None:
    runner = operator_app.test_cli_runner()
    assert operator_app.config["ROLES_FILE"] == str(CONFIG_DIR / "roles.toml")
    assert "1 role(s)" in runner.invoke(args=["roles", "load"]).output
    assert "1 role(s)" in runner.invoke(args=["roles", "load"]).output  # idempotent
    maria = make_person(operator_app, "maria", "Орлова Мария Андреевна", phone="+79000000004")
    _claim(operator_app, maria)
    client = signed_in(operator_app, maria)
    assert client.get("/operator/").status_code == 200
    assert "Кабинет оператора" in client.get("/operator/").text


def test_an_operator_role_needs_a_region_and_a_known_person(operator_app: Flask) -> None:
    runner = operator_app.test_cli_runner()
    unknown = runner.invoke(args=["roles", "grant-operator", "nobody", "63"])
    assert unknown.exit_code != 0 and "no signed-in person" in unknown.output


def test_an_admin_makes_someone_an_operator(operator_app: Flask) -> None:
    admin = make_person(operator_app, "admin-1", "Админов Админ Админович")
    runner = operator_app.test_cli_runner()
    assert runner.invoke(args=["roles", "grant-admin", "admin-1"]).exit_code == 0
    parent = make_person(operator_app, "parent-x", "Иванова Мария", phone="+79000000009")

    assert signed_in(operator_app, parent).get("/operator/roles").status_code == 404
    reply = signed_in(operator_app, admin).post(
        "/operator/roles", data={"person": "+79000000009", "region_code": "69"}
    )
    assert reply.status_code == 303
    assert _regions(operator_app, parent) == {"69"}
    # An admin is not an operator of any region by being an admin.
    assert signed_in(operator_app, admin).get("/operator/applications").status_code == 404
