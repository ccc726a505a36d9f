"""The session cookie is signed, not encrypted: it may carry the session id and nothing else.

Anyone holding the browser (or reading its cookie jar) can base64-decode it, so a name,
a birth date, a phone, an e-mail or a token in it would be out in the open.
"""

from __future__ import annotations

import base64
import json
import re
import typing as t
import zlib
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import UserSession
from gateway.runtime import services
from idp_mock.browser import authorize_at_idp
from tests.support.idp import sign_in

IRINA = ("+79000000001", "parent-demo-1")
# What the provider knows of Ирина (DEMO.md), in the forms its claims carry.
PERSONAL = ("Смирнова", "Ирина", "1985-03-14", "79000000001", "irina.smirnova@example.test")
ALLOWED = {"sid", "csrf_token"}


def _cookie(client: FlaskClient) -> tuple[dict[str, t.Any], str]:
    """Decode the session cookie the way anyone can, without the secret key."""
    raw = client.get_cookie("dg_session").value
    compressed = raw.startswith(".")
    payload = raw.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    text = (zlib.decompress(data) if compressed else data).decode()
    return json.loads(text), text


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """A gateway on the live stack (the sign-in helper posts no CSRF token)."""
    return make_stack_app(WTF_CSRF_ENABLED=False)


def test_after_sign_in_the_cookie_carries_only_the_session_id(gateway: Flask) -> None:
    browser = gateway.test_client()
    sign_in(browser, *IRINA)
    assert browser.get("/").status_code == 200
    decoded, text = _cookie(browser)
    assert set(decoded) <= ALLOWED and "sid" in decoded, sorted(decoded)
    for value in PERSONAL:
        assert value not in text
    assert re.search(r"eyJ[\w-]+\.[\w-]+\.", text) is None  # no JWT, however nested


def test_the_id_token_waits_for_the_sign_out_sealed_in_the_session_row(gateway: Flask) -> None:
    browser = gateway.test_client()
    sign_in(browser, *IRINA)
    with gateway.app_context():
        record = db.session.scalars(select(UserSession)).one()
        id_token = services().vault.decrypt(record.id_token)["id_token"]
        assert id_token.startswith("eyJ")  # a JWT, stored only as the vault's ciphertext
        assert id_token.split(".")[1].encode() not in record.id_token
    ended = browser.post("/logout")
    # The provider's logout gets the hint from the row, since the cookie no longer has it.
    assert ended.status_code == 303 and "id_token_hint=eyJ" in ended.headers["Location"]
    with gateway.app_context():
        assert db.session.scalars(select(UserSession)).one().id_token is None


def test_switching_the_language_adds_only_the_language(gateway: Flask) -> None:
    browser = gateway.test_client()
    sign_in(browser, *IRINA)
    browser.get("/lang/en")
    decoded, _ = _cookie(browser)
    assert set(decoded) <= ALLOWED | {"lang"} and decoded["lang"] == "en"


def test_while_signing_in_the_pkce_verifier_and_nonce_stay_in_the_cache(gateway: Flask) -> None:
    browser = gateway.test_client()
    start = browser.get("/login?next=/children/")
    assert start.status_code == 302
    decoded, text = _cookie(browser)
    states = [key for key in decoded if key.startswith("_state_idp_")]
    assert len(states) == 1 and set(decoded[states[0]]) == {"exp"}
    assert set(decoded) == {"next", *states}
    assert "code_verifier" not in text and "nonce" not in text


def test_a_path_kept_for_after_sign_in_is_sealed_and_still_followed(gateway: Flask) -> None:
    # An invitee who is not signed in follows the link: the path holds the invitation's token.
    invitation = "/trusted/accept/" + "T0ken-" * 7
    browser = gateway.test_client()
    start = browser.get(f"/login?next={invitation}")
    assert start.status_code == 302
    decoded, text = _cookie(browser)
    assert "T0ken" not in text and "/trusted/" not in text
    assert isinstance(decoded["next"], str)  # the vault's ciphertext
    back = urlsplit(authorize_at_idp(start.headers["Location"], *IRINA))
    done = browser.get(f"{back.path}?{back.query}")
    if done.headers["Location"].endswith("/consent"):  # the path waits through the consent
        assert "T0ken" not in _cookie(browser)[1]
        done = browser.post("/consent", data={"accept": "y"})
    assert done.headers["Location"] == invitation
