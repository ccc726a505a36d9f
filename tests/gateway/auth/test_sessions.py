"""Server-side sessions: timeouts, sign-out here, sign-out everywhere."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import UserSession
from tests.gateway.conftest import signed_in


def _age_sessions(app: Flask, **shift: dt.timedelta) -> None:
    with app.app_context():
        for record in db.session.scalars(select(UserSession)):
            for column, delta in shift.items():
                moment = getattr(record, column)
                setattr(record, column, moment.replace(tzinfo=moment.tzinfo or dt.UTC) - delta)
        db.session.commit()


def _is_signed_in(client: FlaskClient) -> bool:
    return client.get("/children/link").status_code == 200


@pytest.mark.parametrize(
    "shift",
    [
        {"last_seen_at": dt.timedelta(minutes=61)},
        {"created_at": dt.timedelta(hours=13), "last_seen_at": dt.timedelta(minutes=1)},
    ],
    ids=["idle", "absolute"],
)
def test_a_session_past_its_timeout_is_signed_out(
    fake_app: Flask, parent_id: int, shift: dict[str, dt.timedelta]
) -> None:
    client = signed_in(fake_app, parent_id)
    assert _is_signed_in(client)
    _age_sessions(fake_app, **shift)
    assert not _is_signed_in(client)


def test_an_active_session_stays_signed_in(fake_app: Flask, parent_id: int) -> None:
    client = signed_in(fake_app, parent_id)
    _age_sessions(fake_app, last_seen_at=dt.timedelta(minutes=59))
    assert _is_signed_in(client)
    _age_sessions(fake_app, last_seen_at=dt.timedelta(minutes=30))
    assert _is_signed_in(client)  # the previous request moved last_seen_at forward


def test_signing_out_ends_only_this_browser(fake_app: Flask, parent_id: int) -> None:
    phone, laptop = signed_in(fake_app, parent_id), signed_in(fake_app, parent_id)
    assert phone.post("/logout", data={}).status_code == 303
    assert not _is_signed_in(phone)
    assert _is_signed_in(laptop)


def test_signing_out_everywhere_ends_every_browser(fake_app: Flask, parent_id: int) -> None:
    phone, laptop = signed_in(fake_app, parent_id), signed_in(fake_app, parent_id)
    phone.post("/logout", data={"everywhere": "y"})
    assert not _is_signed_in(phone)
    assert not _is_signed_in(laptop)


def test_a_copied_cookie_without_a_server_session_is_not_signed_in(
    fake_app: Flask, parent_id: int
) -> None:
    client = fake_app.test_client()
    with client.session_transaction() as state:
        state["_user_id"] = str(parent_id)
        state["sid"] = "made-up"
    assert not _is_signed_in(client)


def test_a_timed_out_session_is_recorded_as_ended(fake_app: Flask, parent_id: int) -> None:
    client = signed_in(fake_app, parent_id)
    _age_sessions(fake_app, last_seen_at=dt.timedelta(minutes=61))
    assert not _is_signed_in(client)
    with fake_app.app_context():
        [record] = db.session.scalars(select(UserSession)).all()
    assert record.ended_reason == "idle" and record.ended_at is not None
