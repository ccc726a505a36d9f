"""Back-channel logout tokens: every case the OpenID conformance suite rejects, rejected."""

from __future__ import annotations

import base64
import json
import time
import typing as t

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwk import OctKey
from joserfc.jwk import RSAKey

from gateway.auth.backchannel import EVENT
from gateway.auth.backchannel import LogoutTokenError
from gateway.auth.backchannel import validate_logout_token

ISSUER, CLIENT = "http://idp.test", "diary-gateway"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256", "use": "sig"})


def _claims(**changes: t.Any) -> dict[str, t.Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "iat": now,
        "exp": now + 120,
        "jti": f"j{time.time_ns()}",
        "sub": "1000000001",
        "sid": "s1",
        "events": {EVENT: {}},
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, t.Any], key: RSAKey = KEY, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "logout+jwt"}, claims, key)


def _validate(raw: str, published: list[RSAKey] | None = None) -> dict[str, t.Any]:
    keys = published or [KEY]
    fetched: list[bool] = []

    def jwks(force: bool) -> dict[str, t.Any]:
        fetched.append(force)
        return KeySet(keys).as_dict(private=False)

    seen: set[str] = set()

    def first_use(jti: str) -> bool:
        new = jti not in seen
        seen.add(jti)
        return new

    return validate_logout_token(
        raw,
        issuer=ISSUER,
        client_id=CLIENT,
        algorithms=["RS256"],
        jwks=jwks,
        now=int(time.time()),
        first_use_of=first_use,
    )


def test_a_valid_logout_token_is_accepted() -> None:
    claims = _validate(_sign(_claims()))
    assert claims["sub"] == "1000000001" and claims["sid"] == "s1"


def _unsigned(claims: dict[str, t.Any]) -> str:
    def part(value: dict[str, t.Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'logout+jwt'})}.{part(claims)}."


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(lambda: _unsigned(_claims()), id="alg-none"),
        pytest.param(lambda: _sign(_claims(events=None)), id="no-event"),
        pytest.param(lambda: _sign(_claims(events={"other": {}})), id="wrong-event"),
        pytest.param(lambda: _sign(_claims(nonce="n")), id="with-nonce"),
        pytest.param(lambda: _sign(_claims(aud="someone-else")), id="wrong-aud"),
        pytest.param(lambda: _sign(_claims(iss="http://evil.test")), id="wrong-iss"),
        pytest.param(lambda: _sign(_claims(sub=None, sid=None)), id="no-sub-no-sid"),
        pytest.param(lambda: _sign(_claims(iat=None)), id="no-iat"),
        pytest.param(lambda: _sign(_claims(exp=int(time.time()) - 3600)), id="expired"),
        pytest.param(lambda: _sign(_claims(), key=OTHER), id="bad-signature"),
        pytest.param(
            lambda: jwt.encode({"alg": "HS256"}, _claims(), OctKey.import_key(b"k" * 32)),
            id="wrong-alg",
        ),
    ],
)
def test_a_bad_logout_token_is_rejected(raw: t.Callable[[], str]) -> None:
    with pytest.raises(LogoutTokenError):
        _validate(raw())


def test_a_replayed_logout_token_is_rejected() -> None:
    raw = _sign(_claims(jti="once"))
    seen: set[str] = set()

    def first_use(jti: str) -> bool:
        new = jti not in seen
        seen.add(jti)
        return new

    def check() -> None:
        validate_logout_token(
            raw,
            issuer=ISSUER,
            client_id=CLIENT,
            algorithms=["RS256"],
            jwks=lambda force: KeySet([KEY]).as_dict(private=False),
            now=int(time.time()),
            first_use_of=first_use,
        )

    check()
    with pytest.raises(LogoutTokenError, match="replayed"):
        check()


def test_a_token_signed_with_a_new_key_triggers_one_jwks_refetch() -> None:
    fetches: list[bool] = []

    def jwks(force: bool) -> dict[str, t.Any]:
        fetches.append(force)
        return KeySet([KEY, OTHER] if force else [KEY]).as_dict(private=False)

    validate_logout_token(
        _sign(_claims(), key=OTHER),
        issuer=ISSUER,
        client_id=CLIENT,
        algorithms=["RS256"],
        jwks=jwks,
        now=int(time.time()),
        first_use_of=lambda jti: True,
    )
    assert fetches == [False, True]
