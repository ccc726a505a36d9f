"""Validate OpenID Connect Back-Channel Logout tokens (authlib has no support for them)."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from collections.abc import Collection

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Reject a logout token issued longer ago than this, even if its exp allows more.
MAX_AGE_SECONDS = 600
LEEWAY_SECONDS = 60


class LogoutTokenError(Exception):
    """The logout token cannot be trusted; the request gets a 400."""


def validate_logout_token(
    raw: str,
    *,
    issuer: str,
    client_id: str,
    algorithms: Collection[str],
    jwks: Callable[[bool], dict[str, t.Any]],
    now: int,
    first_use_of: Callable[[str], bool],
) -> dict[str, t.Any]:
    """Verify a logout token's signature and claims; return its claims.

    ``jwks(force)`` returns the provider's key set, refetched once for an unknown key id.
    ``first_use_of(jti)`` records a token id and says whether it is new (replay check).

    :raise LogoutTokenError: for anything the Back-Channel Logout spec says to reject.
    """
    allowed = [alg for alg in algorithms if alg.lower() != "none" and not alg.startswith("HS")]
    claims = _verified_claims(raw, allowed, jwks)
    if claims.get("iss") != issuer:
        raise LogoutTokenError("wrong issuer")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise LogoutTokenError("not addressed to this client")
    _check_times(claims, now)
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):
        raise LogoutTokenError("not a back-channel logout event")
    if "nonce" in claims:
        raise LogoutTokenError("a logout token must not carry a nonce")
    if not claims.get("sub") and not claims.get("sid"):
        raise LogoutTokenError("names neither a subject nor a session")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise LogoutTokenError("no token id")
    if not first_use_of(jti):
        raise LogoutTokenError("replayed")
    return claims


def _verified_claims(
    raw: str, algorithms: list[str], jwks: Callable[[bool], dict[str, t.Any]]
) -> dict[str, t.Any]:
    registry = JWSRegistry(algorithms=algorithms)
    try:
        try:
            token = jwt.decode(raw, KeySet.import_key_set(jwks(False)), registry=registry)
        except InvalidKeyIdError:
            token = jwt.decode(raw, KeySet.import_key_set(jwks(True)), registry=registry)
    except (JoseError, ValueError) as err:
        raise LogoutTokenError(f"bad signature or format: {type(err).__name__}") from err
    return dict(token.claims)


def _check_times(claims: dict[str, t.Any], now: int) -> None:
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or iat > now + LEEWAY_SECONDS or iat < now - MAX_AGE_SECONDS:
        raise LogoutTokenError("missing or implausible iat")
    if not isinstance(exp, int) or exp < now - LEEWAY_SECONDS:
        raise LogoutTokenError("missing exp or expired")
