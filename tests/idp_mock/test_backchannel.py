"""Back-Channel Logout 1.0: logout tokens POSTed to each client the session signed in to."""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask import request
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp_mock.clients import DEMO_CLIENT
from tests.idp_mock.helpers import CLIENT_ID
from tests.idp_mock.helpers import POST_LOGOUT_URI
from tests.idp_mock.helpers import REDIRECT_URI
from tests.idp_mock.helpers import get_code
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import tokens_for
from tests.idp_mock.helpers import verified_claims
from tests.support.live import serving
from tests.support.stack import free_port

EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def received() -> Iterator[tuple[str, list[dict[str, t.Any]]]]:
    """Serve a receiving RP endpoint; yield its URL and what arrived."""
    arrived: list[dict[str, t.Any]] = []
    receiver = Flask("receiver")

    @receiver.post("/backchannel")
    def backchannel() -> tuple[str, int]:
        arrived.append({"form": request.form.to_dict(), "type": request.content_type})
        return "", 200

    with serving(receiver) as url:
        yield url + "/backchannel", arrived


def idp_with(make_idp: t.Callable[..., Flask], uri: str, **extra: t.Any) -> FlaskClient:
    """Return a client of a provider whose demo client registered `uri`, signed in as Ирина."""
    client_entry = {**DEMO_CLIENT, "backchannel_logout_uri": uri}
    client = make_idp(IDP_CLIENTS=[client_entry, *extra.pop("more", [])], **extra).test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    return client


def logout_token_claims(client: FlaskClient, token: str) -> tuple[dict[str, t.Any], t.Any]:
    """Verify the logout token against the JWKS; return its claims and header."""
    key_set = KeySet.import_key_set(client.get("/jwks").get_json())
    decoded = jwt.decode(token, key_set, algorithms=["RS256"])
    return dict(decoded.claims), decoded.header


def test_id_token_carries_sid(irina: FlaskClient) -> None:
    assert verified_claims(irina, tokens_for(irina)["id_token"])["sid"]


def test_rp_initiated_logout_posts_a_logout_token(
    make_idp: t.Callable[..., Flask], received: tuple[str, list[dict[str, t.Any]]]
) -> None:
    uri, arrived = received
    client = idp_with(make_idp, uri)
    id_claims = verified_claims(client, hint := tokens_for(client)["id_token"])

    query = urlencode({"id_token_hint": hint, "post_logout_redirect_uri": POST_LOGOUT_URI})
    assert client.get("/logout?" + query).status_code == 302

    (message,) = arrived
    assert message["type"] == "application/x-www-form-urlencoded"
    claims, header = logout_token_claims(client, message["form"]["logout_token"])
    assert header["typ"] == "logout+jwt"
    assert header["kid"]
    assert claims["iss"] == id_claims["iss"]
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == id_claims["sub"]
    assert claims["sid"] == id_claims["sid"]
    assert claims["events"] == {EVENT: {}}
    assert claims["jti"] and claims["exp"] > claims["iat"]
    assert "nonce" not in claims


def test_sign_out_at_the_provider_notifies_the_client(
    make_idp: t.Callable[..., Flask], received: tuple[str, list[dict[str, t.Any]]]
) -> None:
    uri, arrived = received
    client = idp_with(make_idp, uri)
    tokens_for(client)

    assert client.post("/logout", data={"decision": "logout"}).status_code == 303

    assert len(arrived) == 1


def test_only_clients_signed_in_to_are_notified(
    make_idp: t.Callable[..., Flask], received: tuple[str, list[dict[str, t.Any]]]
) -> None:
    uri, arrived = received
    unused = {
        "client_id": "unused",
        "client_secret": "s",
        "redirect_uris": [REDIRECT_URI],
        "backchannel_logout_uri": uri,
    }
    client = idp_with(make_idp, uri, more=[unused])
    get_code(client)

    client.post("/logout", data={"decision": "logout"})

    assert [logout_token_claims(client, m["form"]["logout_token"])[0]["aud"] for m in arrived] == [
        CLIENT_ID
    ]


def test_no_session_use_means_no_notice(
    make_idp: t.Callable[..., Flask], received: tuple[str, list[dict[str, t.Any]]]
) -> None:
    uri, arrived = received
    client = idp_with(make_idp, uri)

    client.post("/logout", data={"decision": "logout"})

    assert arrived == []


def test_unreachable_client_is_logged_and_logout_still_succeeds(
    make_idp: t.Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    client = idp_with(make_idp, f"http://127.0.0.1:{free_port()}/down", IDP_BACKCHANNEL_TIMEOUT=0.5)
    tokens_for(client)

    with caplog.at_level(logging.WARNING, logger="idp_mock.backchannel"):
        response = client.post("/logout", data={"decision": "logout"})

    assert response.status_code == 303
    assert "back-channel logout to diary-gateway failed" in caplog.text
    assert client.get("/").get_data(as_text=True).count("Вы вошли как") == 0


def test_signing_in_as_someone_else_ends_the_previous_session(
    make_idp: t.Callable[..., Flask], received: tuple[str, list[dict[str, t.Any]]]
) -> None:
    uri, arrived = received
    client = idp_with(make_idp, uri)
    tokens_for(client)

    sign_in(client, "+79000000002", "parent-demo-2")

    (message,) = arrived
    assert logout_token_claims(client, message["form"]["logout_token"])[0]["sub"] == "1000000001"
