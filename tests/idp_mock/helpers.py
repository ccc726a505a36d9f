"""Drive the provider's code flow through Flask's test client."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.test import TestResponse

ISSUER = "http://127.0.0.1:9999"
CLIENT_ID = "diary-gateway"
CLIENT_SECRET = "demo-gateway-secret"
REDIRECT_URI = "http://127.0.0.1:8000/auth/callback"
POST_LOGOUT_URI = "http://127.0.0.1:8000/auth/logged-out"
SCOPE = "openid profile email phone"


def pkce_pair() -> tuple[str, str]:
    """Return a fresh (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_query(challenge: str, **overrides: str | None) -> str:
    """Return an /authorize URL; a None override drops that parameter."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": "state-123",
        "nonce": "nonce-" + secrets.token_hex(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return "/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def query_of(response: TestResponse) -> dict[str, str]:
    """Return the single-valued query parameters of a redirect's Location."""
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    parsed = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in parsed.items()}


def sign_in(client: FlaskClient, login: str, password: str, next_path: str = "") -> TestResponse:
    """Post the sign-in form."""
    url = "/login" + (f"?{urlencode({'next': next_path})}" if next_path else "")
    return client.post(url, data={"login": login, "password": password})


def consent_url(response: TestResponse) -> str:
    """Return the local path and query that /authorize redirected to."""
    location = urlsplit(response.headers["Location"])
    return f"{location.path}?{location.query}"


def authorize(client: FlaskClient, url: str, *, decision: str = "allow") -> TestResponse:
    """Follow /authorize for a signed-in client, answering consent if asked."""
    response = client.get(url)
    if response.status_code == 302 and response.headers["Location"].startswith("/consent"):
        response = client.post(consent_url(response), data={"decision": decision})
    return response


def get_code(client: FlaskClient, **overrides: str | None) -> tuple[str, str, dict[str, str]]:
    """Run the front channel; return (code, verifier, the redirect's query)."""
    verifier, challenge = pkce_pair()
    query = query_of(authorize(client, authorize_query(challenge, **overrides)))
    return query["code"], verifier, query


def exchange(client: FlaskClient, code: str, verifier: str | None, **extra: str) -> TestResponse:
    """Redeem a code at /token with client_secret_basic."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        form["code_verifier"] = verifier
    form.update(extra)
    return client.post("/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))


def tokens_for(client: FlaskClient, **overrides: str | None) -> dict[str, t.Any]:
    """Run the whole code flow and return the token response."""
    code, verifier, _ = get_code(client, **overrides)
    response = exchange(client, code, verifier)
    assert response.status_code == 200, response.get_data(as_text=True)
    return t.cast(dict[str, t.Any], response.get_json())


class FakeClock:
    """Stand in for time.time: starts now and moves only when told to."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


def bearer(token: str) -> dict[str, str]:
    """Return an Authorization header for the token."""
    return {"Authorization": f"Bearer {token}"}


def refresh(client: FlaskClient, refresh_token: str, **extra: str) -> TestResponse:
    """Exchange a refresh token at /token with client_secret_basic."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return client.post("/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))


def unverified_claims(token: str) -> dict[str, t.Any]:
    """Return a JWT's claims without checking anything (to inspect a spoiled token)."""
    payload = token.split(".")[1]
    return t.cast(dict[str, t.Any], json.loads(base64.urlsafe_b64decode(payload + "==")))


def unverified_header(token: str) -> dict[str, t.Any]:
    """Return a JWT's header without checking anything."""
    header = token.split(".")[0]
    return t.cast(dict[str, t.Any], json.loads(base64.urlsafe_b64decode(header + "==")))


def verified_claims(client: FlaskClient, token: str) -> dict[str, t.Any]:
    """Verify a JWT against the provider's published JWKS and return its claims."""
    key_set = KeySet.import_key_set(client.get("/jwks").get_json())
    return dict(jwt.decode(token, key_set, algorithms=["RS256"]).claims)


def latest_code(client: FlaskClient, recipient: str) -> str:
    """Return the newest code the dev outbox holds for the recipient."""
    messages = client.get("/__dev/outbox?format=json").get_json()["messages"]
    return t.cast(str, next(m["code"] for m in messages if m["to"] == recipient))
