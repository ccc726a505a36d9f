"""`flask rotate-vault` re-seals every stored secret, and a retired key never locks anyone in."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AccessApplication
from gateway.models import Base
from gateway.models import ChildLink
from gateway.models import OutboxMessage
from gateway.models import SchoolCredential
from gateway.models import UserSession
from gateway.runtime import services
from gateway.services import outbox
from gateway.services.vault import SEALED_COLUMNS
from gateway.services.vault import Vault
from tests.gateway.conftest import FAKE_CLASSES
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def test_every_binary_column_is_one_the_rotation_knows() -> None:
    # A new sealed column must be named in SEALED_COLUMNS, or rotation would leave it behind.
    binary = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sa.LargeBinary)
    }
    named = {(model.__tablename__, c) for model, columns in SEALED_COLUMNS for c in columns}
    assert binary == named


def _seal_everything(app: Flask) -> None:
    """Store one secret in every sealed column, under the app's (old) key."""
    client = signed_in(app, make_parent(app))
    linked = client.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert linked.status_code == 303
    with app.app_context():
        vault = services().vault
        record = db.session.scalars(select(UserSession)).one()
        record.id_token = vault.encrypt({"id_token": "header.payload.signature"})
        record.provider_refresh_token = vault.encrypt({"rt": "refresh-token"})
        link = db.session.scalars(select(ChildLink)).first()
        assert link is not None
        db.session.add(
            AccessApplication(
                user_id=link.user_id,
                instance_id=link.instance_id,
                child_full_name="Иванова Анна",
                child_birth_date=dt.date(2015, 1, 1),
                school="Школа",
                class_name="1А",
                applicant_full_name="Иванова Мария",
                applicant_birth_date=dt.date(1985, 1, 1),
                relation="mother",
                documents=vault.encrypt({"cert": "IV-ЕР 123456", "passport": "36 04 123456"}),
                consent_at=NOW,
                due_on=NOW.date(),
            )
        )
        outbox.queue(
            db.session,
            channel="sms",
            recipient="+79000000003",
            subject="",
            body="Ссылка: {link}",
            now=NOW,
            secrets={"link": "http://localhost/trusted/accept/secret"},
            vault=vault,
        )
        db.session.commit()


def _same_database(make_app: t.Callable[..., Flask], *keys: str) -> Flask:
    """Another gateway on the same database, with these vault keys."""
    return make_app(CONNECTOR_CLASSES=FAKE_CLASSES, WTF_CSRF_ENABLED=False, VAULT_KEYS=list(keys))


def _sealed_values(app: Flask) -> list[bytes]:
    with app.app_context():
        return [
            value
            for model, columns in SEALED_COLUMNS
            for row in db.session.scalars(select(model))
            for value in (getattr(row, c) for c in columns)
            if value is not None
        ]


def test_rotation_reseals_every_secret_so_the_old_key_can_be_retired(
    make_app: t.Callable[..., Flask], school: FakeSchool, vault_key: str
) -> None:
    old = build_fake_app(make_app)
    _seal_everything(old)
    assert len(_sealed_values(old)) == 6  # credential, backend session, 2 tokens, documents, link
    new_key = Fernet.generate_key().decode()
    both = _same_database(make_app, new_key, vault_key)
    result = both.test_cli_runner().invoke(args=["rotate-vault"])
    assert result.exit_code == 0, result.output
    retired = Vault([new_key])
    for value in _sealed_values(both):
        retired.decrypt(value)  # raises VaultError for a value still under the old key


def test_signing_out_works_when_the_id_token_was_sealed_under_a_retired_key(
    make_app: t.Callable[..., Flask], school: FakeSchool
) -> None:
    old = build_fake_app(make_app)
    _seal_everything(old)
    with old.app_context():
        sid = db.session.scalars(select(UserSession.id)).one()
    retired = _same_database(make_app, Fernet.generate_key().decode())
    client = retired.test_client()
    with client.session_transaction() as state:
        state["sid"] = sid
    reply = client.post("/logout")
    assert reply.status_code == 303
    with retired.app_context():
        record = db.session.get(UserSession, sid)
        assert record is not None and record.ended_at is not None
        assert record.id_token is None
    assert "Выйти" not in client.get("/").text  # signed out: the welcome page


def test_checking_the_level_again_asks_for_a_sign_in_when_the_token_no_longer_opens(
    make_app: t.Callable[..., Flask], school: FakeSchool
) -> None:
    old = build_fake_app(make_app)
    _seal_everything(old)
    with old.app_context():
        sid = db.session.scalars(select(UserSession.id)).one()
    retired = _same_database(make_app, Fernet.generate_key().decode())
    client = retired.test_client()
    with client.session_transaction() as state:
        state["sid"] = sid
    reply = client.post("/auth/refresh-profile")
    assert reply.status_code in (302, 303) and "/login" in reply.location


def test_a_delivered_message_keeps_nothing_to_rotate(
    make_app: t.Callable[..., Flask], school: FakeSchool
) -> None:
    app = build_fake_app(make_app)
    _seal_everything(app)
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        outbox.deliver(db.session, message, vault=services().vault, now=NOW)
        db.session.commit()
        assert db.session.scalars(select(OutboxMessage.sealed)).one() is None
        assert db.session.scalars(select(SchoolCredential)).one().secret
