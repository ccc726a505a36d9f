"""The gateway against a real provider told to misbehave: one test per OpenID RP case.

idp_mock's development fault switch makes its next token or response wrong in one
chosen way; the gateway must refuse each, and sign nobody in.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import User
from gateway.models import UserSession
from gateway.runtime import services
from idp_mock.browser import authorize_at_idp
from tests.support.idp import sign_in
from tests.support.stack import RequestCounter

IRINA = ("+79000000001", "parent-demo-1")


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """A gateway on the live stack; CSRF is proven elsewhere."""
    return make_stack_app(WTF_CSRF_ENABLED=False)


@pytest.fixture
def fault(idp_url: str) -> t.Iterator[t.Callable[[str], None]]:
    """Arm the provider's fault switch; always disarmed afterwards."""

    def arm(mode: str) -> None:
        requests.post(
            f"{idp_url}/__dev/faults", json={"next_token": mode}, timeout=5
        ).raise_for_status()

    yield arm
    requests.delete(f"{idp_url}/__dev/faults", timeout=5).raise_for_status()


def _callback(client: FlaskClient) -> t.Any:
    start = client.get("/login")
    back = urlsplit(authorize_at_idp(start.headers["Location"], *IRINA))
    return client.get(f"{back.path}?{back.query}")


def _nobody_signed_in(app: Flask) -> bool:
    with app.app_context():
        return db.session.scalars(select(UserSession)).all() == []


@pytest.mark.parametrize(
    "mode",
    [
        "bad_signature",
        "alg_none",
        "wrong_iss",
        "wrong_aud",
        "missing_aud",
        "wrong_azp",
        "missing_sub",
        "expired",
        "missing_iat",
        "wrong_nonce",
        "unknown_kid",
        "userinfo_wrong_sub",
        "missing_iss_param",
        "wrong_iss_param",
    ],
)
def test_a_sign_in_the_standards_reject_is_refused(
    gateway: Flask, fault: t.Callable[[str], None], mode: str
) -> None:
    fault(mode)
    reply = _callback(gateway.test_client())
    assert reply.status_code == 400, mode
    assert "Не удалось войти" in reply.text
    assert _nobody_signed_in(gateway)


def test_an_unknown_key_id_makes_exactly_one_jwks_refetch(
    gateway: Flask, fault: t.Callable[[str], None]
) -> None:
    assert _callback(gateway.test_client()).status_code == 302  # JWKS now cached
    before = RequestCounter.counts.get("/jwks", 0)
    fault("unknown_kid")
    assert _callback(gateway.test_client()).status_code == 400
    assert RequestCounter.counts.get("/jwks", 0) - before == 1


def test_several_keys_without_a_kid_never_sign_in_the_wrong_person(
    gateway: Flask, fault: t.Callable[[str], None]
) -> None:
    fault("no_kid_multiple_keys")
    reply = _callback(gateway.test_client())
    if reply.status_code == 302:  # the right key was found among several: allowed
        with gateway.app_context():
            [user] = db.session.scalars(select(User)).all()
        assert user.full_name == "Смирнова Ирина Сергеевна"
    else:
        assert reply.status_code == 400 and _nobody_signed_in(gateway)


@pytest.mark.parametrize("mode", ["refresh_changes_sub", "refresh_changes_iss"])
def test_a_refreshed_id_token_must_keep_issuer_and_subject(
    gateway: Flask, fault: t.Callable[[str], None], mode: str
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    assert client.post("/auth/refresh-profile").status_code == 303  # a clean refresh works
    fault(mode)
    refused = client.post("/auth/refresh-profile")
    assert refused.status_code == 400
    with gateway.app_context():
        [user] = db.session.scalars(select(User)).all()
    assert user.subject != "9999999999"


def test_the_logout_callback_must_carry_our_state(gateway: Flask) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    away = client.post("/logout")
    state = parse_qs(urlsplit(away.headers["Location"]).query)["state"][0]
    assert client.get("/auth/logged-out?state=someone-elses").status_code == 400
    assert client.get(f"/auth/logged-out?state={state}").status_code == 200


def test_refresh_profile_picks_up_a_new_account_level(gateway: Flask) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    with gateway.app_context():
        user = db.session.scalar(select(User))
        user.account_level = "simplified"  # as if it had been lower at sign-in
        db.session.commit()
    assert client.get("/children/link").status_code == 403
    assert client.post("/auth/refresh-profile").status_code == 303
    assert client.get("/children/link").status_code == 200


def test_the_providers_back_channel_logout_ends_the_session_on_every_instance(
    make_stack_app: t.Callable[..., Flask], live_gateway: str, idp_url: str
) -> None:
    other_instance = make_stack_app(WTF_CSRF_ENABLED=False)  # shares the database
    browser, elsewhere = other_instance.test_client(), other_instance.test_client()
    sign_in(browser, *IRINA)
    sign_in(elsewhere, *IRINA)
    with browser.session_transaction() as state, other_instance.app_context():
        sealed = db.session.get(UserSession, state["sid"]).id_token
        id_token = services().vault.decrypt(sealed)["id_token"]
    assert browser.get("/children/link").status_code == 200
    # The person signs out at the provider; it tells the live instance over the back channel.
    requests.get(
        f"{idp_url}/logout",
        params={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": f"{live_gateway}/auth/logged-out",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert browser.get("/children/link").status_code == 302  # signed out on this instance
    assert elsewhere.get("/children/link").status_code == 200  # another provider session
    with other_instance.app_context():
        ended = db.session.scalars(
            select(UserSession).where(UserSession.ended_reason == "provider_logout")
        ).all()
    assert len(ended) == 1
