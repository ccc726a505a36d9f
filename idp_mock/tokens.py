"""Sign ID tokens and logout tokens with the current key, or spoil them when a fault is armed.

Revoking stored tokens lives here too, beside issuing them: the grants (a replayed code, a
reused refresh token) and the revocation endpoint both call :func:`revoke_families`.
"""

from __future__ import annotations

import base64
import json
import secrets
import typing as t
from dataclasses import dataclass

import sqlalchemy as sa
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp_mock.claims import person_claims
from idp_mock.database import db
from idp_mock.faults import ID_TOKEN_FAULTS
from idp_mock.faults import REFRESH_FAULTS
from idp_mock.faults import FaultSwitch
from idp_mock.keys import ALGORITHM
from idp_mock.keys import KeyStore
from idp_mock.keys import generate_key
from idp_mock.models import Person
from idp_mock.models import Token

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120
WRONG_ISSUER = "http://wrong-issuer.test"
WRONG_AUDIENCE = "someone-else"
OTHER_SUB = "9999999999"


@dataclass(frozen=True, kw_only=True)
class IdTokenRequest:
    """Describe one ID token to issue."""

    client_id: str
    person: Person
    scope: str
    auth_time: int
    now: int
    ttl: int
    access_token: str | None = None
    nonce: str | None = None
    sid: str | None = None


def revoke_families(families: list[str]) -> None:
    """Revoke every access and refresh token of the given families."""
    db().execute(
        sa.update(Token)
        .where(Token.family.in_(families))
        .values(revoked=True, refresh_revoked=True)
    )
    db().commit()


class Signer:
    """Sign the provider's JWTs; every header names the signing key's kid."""

    def __init__(self, *, issuer: str, keys: KeyStore, faults: FaultSwitch) -> None:
        self.issuer = issuer
        self.keys = keys
        self.faults = faults

    def sign(self, claims: dict[str, t.Any], *, typ: str = "JWT", key: RSAKey | None = None) -> str:
        """Sign the claims with RS256 and the current key (or the given one)."""
        key = key or self.keys.current
        header = {"alg": ALGORITHM, "kid": key.kid, "typ": typ}
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])

    def id_token(self, request: IdTokenRequest, *, refreshed: bool = False) -> str:
        """Issue an ID token; an armed fault spoils it in the chosen way."""
        claims = self.id_token_claims(request)
        mode = self.faults.take(ID_TOKEN_FAULTS | (REFRESH_FAULTS if refreshed else set()))
        if mode is None:
            return self.sign(claims)
        return self._spoiled(mode, claims, request)

    def id_token_claims(self, request: IdTokenRequest) -> dict[str, t.Any]:
        """Return the claims of an ID token: registered ones, session ones, then the person's."""
        claims: dict[str, t.Any] = {
            "iss": self.issuer,
            "aud": request.client_id,
            "iat": request.now,
            "exp": request.now + request.ttl,
            "auth_time": request.auth_time,
            "amr": ["pwd"],
        }
        if request.nonce:
            claims["nonce"] = request.nonce
        if request.sid:
            claims["sid"] = request.sid
        if request.access_token:
            claims["at_hash"] = create_half_hash(request.access_token, ALGORITHM).decode()
        claims.update(person_claims(request.person, request.scope))
        return claims

    def logout_token(self, *, client_id: str, sub: str, sid: str | None, now: int) -> str:
        """Return a Back-Channel Logout 1.0 logout token (typ logout+jwt, never a nonce)."""
        claims: dict[str, t.Any] = {
            "iss": self.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_TTL,
            "jti": secrets.token_urlsafe(16),
            "events": {BACKCHANNEL_EVENT: {}},
            "sub": sub,
        }
        if sid:
            claims["sid"] = sid
        return self.sign(claims, typ="logout+jwt")

    def _spoiled(self, mode: str, claims: dict[str, t.Any], request: IdTokenRequest) -> str:
        if mode == "bad_signature":
            return _corrupt_signature(self.sign(claims))
        if mode == "unknown_kid":
            return self.sign(claims, key=generate_key())
        if mode == "alg_none":
            return _unsigned(claims)
        if mode == "no_kid_multiple_keys":
            if not self.faults.decoys:
                self.faults.decoys.append(generate_key())
            header = {"alg": ALGORITHM, "typ": "JWT"}
            return jwt.encode(header, claims, self.keys.current, algorithms=[ALGORITHM])
        _spoil_claims(mode, claims, request)
        return self.sign(claims)


def _spoil_claims(mode: str, claims: dict[str, t.Any], request: IdTokenRequest) -> None:
    if mode in ("wrong_iss", "refresh_changes_iss"):
        claims["iss"] = WRONG_ISSUER
    elif mode == "wrong_aud":
        claims["aud"] = WRONG_AUDIENCE
    elif mode == "wrong_azp":
        claims["azp"] = WRONG_AUDIENCE
    elif mode == "expired":
        # Well past any leeway a client allows (authlib's default is 120 s).
        claims["iat"] = request.now - request.ttl - 600
        claims["exp"] = request.now - 600
    elif mode == "wrong_nonce":
        claims["nonce"] = "wrong-" + secrets.token_hex(8)
    elif mode == "missing_sub":
        del claims["sub"]
    elif mode == "missing_iat":
        del claims["iat"]
    elif mode == "missing_aud":
        del claims["aud"]
    elif mode == "refresh_changes_sub":
        claims["sub"] = OTHER_SUB


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _corrupt_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0xFF
    return ".".join([header, payload, _b64(bytes(raw))])


def _unsigned(claims: dict[str, t.Any]) -> str:
    # joserfc refuses to produce alg=none, which is the point of this fault: built by hand.
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims, ensure_ascii=False).encode())
    return f"{header}.{payload}."
