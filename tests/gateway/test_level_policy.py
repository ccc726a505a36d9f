"""Linking a child needs a standard or confirmed identity-provider account (configurable)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import User
from tests.gateway.conftest import signed_in


def _set_level(app: Flask, user_id: int, level: str | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).account_level = level
        db.session.commit()


@pytest.mark.parametrize("level", ["simplified", None, "unknown-level"])
def test_a_simplified_account_is_told_why_and_how_to_raise_it(
    fake_app: Flask, parent_id: int, level: str | None
) -> None:
    _set_level(fake_app, parent_id, level)
    client = signed_in(fake_app, parent_id)
    for path in (
        "/children/link",
        "/children/link/test-fake",
        "/children/link/test-oauth/authorize",
    ):
        page = client.get(path)
        assert page.status_code == 403
        assert "повысьте уровень" in page.text and "СНИЛС" in page.text
    refused = client.post(
        "/children/link/test-fake", data={"login": "parent", "password": "secret"}
    )
    assert refused.status_code == 403
    with fake_app.app_context():
        assert db.session.scalars(select(ChildLink)).all() == []


@pytest.mark.parametrize("level", ["standard", "confirmed"])
def test_standard_and_confirmed_accounts_may_link(
    fake_app: Flask, parent_id: int, level: str
) -> None:
    _set_level(fake_app, parent_id, level)
    client = signed_in(fake_app, parent_id)
    reply = client.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303


def test_the_minimum_level_is_configurable(fake_app: Flask, parent_id: int) -> None:
    fake_app.config["LINK_MIN_LEVEL"] = "confirmed"
    client = signed_in(fake_app, parent_id)
    assert client.get("/children/link").status_code == 403  # standard is not enough now
    _set_level(fake_app, parent_id, "confirmed")
    assert client.get("/children/link").status_code == 200
