"""The gateway signs in through oidc-provider, a certified OpenID Provider, by settings alone."""

from __future__ import annotations

import re
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import User
from gateway.models import UserSession
from idp_mock.browser import authorize_at_idp
from tests.interop.nodejs import ACCOUNT
from tests.interop.nodejs import Registration

CLAIMS = ACCOUNT["claims"]


@pytest.fixture
def gateway(make_app: t.Callable[..., Flask], oidc_provider: Registration) -> Flask:
    """Build a gateway whose only change is the OIDC settings (CSRF stays on)."""
    return build(make_app, oidc_provider)


def sign_in(client: FlaskClient, *, allow: bool = True) -> t.Any:
    """Start at /login, sign in at oidc-provider with requests, and return the callback reply."""
    start = client.get("/login")
    assert start.status_code == 302, start.text
    back = authorize_at_idp(
        start.headers["Location"], ACCOUNT["login"], ACCOUNT["password"], allow=allow
    )
    parts = urlsplit(back)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://localhost/auth/callback"
    return client.get(f"{parts.path}?{parts.query}")


def person(app: Flask) -> User | None:
    """Return the person the gateway keeps for the provider's subject."""
    with app.app_context():
        return db.session.scalar(
            select(User).where(
                User.issuer == app.config["OIDC_ISSUER"], User.subject == CLAIMS["sub"]
            )
        )


def accept_consent(client: FlaskClient) -> str:
    """Accept the gateway's personal-data consent; return the form's CSRF token for reuse."""
    page = client.get("/consent")
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert found, page.text
    token = found.group(1)
    accepted = client.post("/consent", data={"accept": "y", "csrf_token": token})
    assert accepted.status_code == 303, accepted.text
    return token


def assert_profile_from_claims(found: User | None) -> None:
    """Check that the person carries the provider's standard claims."""
    assert found is not None
    assert found.full_name == "Смирнова Ирина Сергеевна"
    assert found.email == CLAIMS["email"]
    assert found.phone == CLAIMS["phone_number"]
    assert found.birth_date is not None and found.birth_date.isoformat() == CLAIMS["birthdate"]


def test_authorization_request_is_what_a_certified_provider_expects(
    gateway: Flask, oidc_provider: Registration
) -> None:
    start = gateway.test_client().get("/login")

    url = urlsplit(start.headers["Location"])
    params = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == oidc_provider.issuer
    assert params["response_type"] == "code"
    assert params["client_id"] == oidc_provider.client_id
    assert params["redirect_uri"] == oidc_provider.redirect_uri
    assert params["code_challenge_method"] == "S256"
    assert params["nonce"] and params["state"]


def test_sign_in_end_to_end_creates_the_person_from_the_providers_claims(gateway: Flask) -> None:
    client = gateway.test_client()

    done = sign_in(client)

    assert done.status_code == 302, done.text
    assert done.headers["Location"].endswith("/consent")
    assert_profile_from_claims(person(gateway))
    accept_consent(client)
    assert "Мои дети" in client.get("/").text


def test_refusal_at_the_provider_is_shown_as_a_cancelled_sign_in(gateway: Flask) -> None:
    client = gateway.test_client()

    done = sign_in(client, allow=False)

    assert done.status_code == 400
    assert "Вы отменили вход" in done.text
    assert person(gateway) is None


def build(app_factory: t.Callable[..., Flask], provider: Registration, **oidc: str) -> Flask:
    """Build a gateway for ``provider``, changing nothing but OIDC settings."""
    return app_factory(
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=provider.client_id,
        OIDC_CLIENT_SECRET=provider.client_secret,
        **oidc,
    )


def refresh_profile(client: FlaskClient) -> t.Any:
    """Sign in, accept consent, and press "check my level again" (/auth/refresh-profile)."""
    assert sign_in(client).status_code == 302
    csrf_token = accept_consent(client)
    return client.post("/auth/refresh-profile", data={"csrf_token": csrf_token})


# Three gaps a certified provider found in the gateway, now closed: offline access needs
# prompt=consent, a refresh asks for no more than was granted, and the profile after a refresh
# comes from userinfo too.


def test_offline_access_in_the_default_scopes_obtains_a_refresh_token(
    make_app: t.Callable[..., Flask], oidc_provider: Registration
) -> None:
    app = build(make_app, oidc_provider)
    assert "offline_access" in app.config["OIDC_SCOPES"].split()

    assert sign_in(app.test_client()).status_code == 302

    with app.app_context():
        record = db.session.scalar(select(UserSession))
    assert record is not None
    assert record.provider_refresh_token is not None


def test_refresh_asks_for_no_scope_beyond_the_granted_one(
    make_app: t.Callable[..., Flask], refreshing_oidc_provider: Registration
) -> None:
    app = build(make_app, refreshing_oidc_provider)

    refreshed = refresh_profile(app.test_client())

    assert refreshed.status_code == 303, refreshed.text


def test_refreshing_the_profile_keeps_the_providers_claims(
    make_app: t.Callable[..., Flask], refreshing_oidc_provider: Registration
) -> None:
    # Without offline_access the refresh itself succeeds (see the test above).
    app = build(make_app, refreshing_oidc_provider, OIDC_SCOPES="openid profile email phone")

    refreshed = refresh_profile(app.test_client())

    assert refreshed.status_code == 303, refreshed.text
    assert_profile_from_claims(person(app))
