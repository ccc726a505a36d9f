"""Finish an OpenID Connect sign-in, checking what authlib leaves to the relying party.

authlib validates state, the PKCE exchange, the ID token's signature, ``exp``, ``iat`` and
``nonce``. It does not enforce ``aud`` unless told to, and it ignores the RFC 9207 ``iss``
authorization-response parameter entirely; both are checked here.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import FlaskOAuth2App
from joserfc.errors import JoseError
from requests import RequestException


class SignInError(Exception):
    """The sign-in response cannot be trusted, or the provider refused it."""

    def __init__(self, reason: str, *, denied: bool = False) -> None:
        """Keep a reason for the log; ``denied`` marks that the person said no."""
        super().__init__(reason)
        self.denied = denied


def claims_options(issuer: str, client_id: str) -> dict[str, t.Any]:
    """Return the ID-token checks: exact issuer, our audience, and a subject."""
    return {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "values": [client_id]},
        "sub": {"essential": True},
        "iat": {"essential": True},
    }


def check_issuer_parameter(args: Mapping[str, str], metadata: Mapping[str, t.Any]) -> None:
    """Apply RFC 9207: the callback's ``iss`` must equal the discovered issuer."""
    iss = args.get("iss")
    if iss is None:
        if metadata.get("authorization_response_iss_parameter_supported"):
            raise SignInError("the authorization response has no iss parameter")
        return
    if iss != metadata.get("issuer"):
        raise SignInError("the authorization response came from another issuer")


def complete_sign_in(
    idp: FlaskOAuth2App, args: Mapping[str, str], *, issuer: str, client_id: str
) -> dict[str, t.Any]:
    """Exchange the code and return the token response with verified ``userinfo`` claims."""
    try:
        metadata = idp.load_server_metadata()
    except RequestException as err:
        raise SignInError("the identity provider is unreachable") from err
    if metadata.get("issuer") != issuer:
        raise SignInError("discovery names a different issuer than configured")
    check_issuer_parameter(args, metadata)
    if args.get("error"):
        denied = args["error"] == "access_denied"
        raise SignInError(f"provider error {args['error']}", denied=denied)
    try:
        token = idp.authorize_access_token(claims_options=claims_options(issuer, client_id))
    except (AuthlibBaseError, JoseError, ValueError) as err:
        raise SignInError(f"the sign-in response was rejected: {type(err).__name__}") from err
    except RequestException as err:
        raise SignInError("the identity provider is unreachable") from err
    claims = token.get("userinfo")
    if not claims:
        raise SignInError("the provider returned no ID token")
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise SignInError("the ID token was issued to another party")
    token["userinfo"] = {**claims, **_userinfo(idp, token, subject=claims["sub"])}
    return dict(token)


def _userinfo(idp: FlaskOAuth2App, token: Mapping[str, t.Any], *, subject: str) -> dict[str, t.Any]:
    """Read the userinfo endpoint; its ``sub`` must be the ID token's (OIDC Core 5.3.2)."""
    endpoint = idp.load_server_metadata().get("userinfo_endpoint")
    if not endpoint:
        return {}
    try:
        response = idp.get(endpoint, token=dict(token))
        response.raise_for_status()
        info = response.json()
    except (RequestException, ValueError) as err:
        raise SignInError("the provider's userinfo is unavailable") from err
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise SignInError("userinfo describes another subject")
    return info


def refreshed_claims(
    idp: FlaskOAuth2App,
    refresh_token: str,
    *,
    scope: str | None,
    issuer: str,
    client_id: str,
    subject: str,
) -> tuple[dict[str, t.Any], str | None]:
    """Refresh the provider's tokens; return the new ID token's claims and refresh token.

    A refreshed ID token must keep the issuer and the subject (OIDC Core 12.2). The refresh
    asks for exactly the scope granted at sign-in (RFC 6749 section 6), and the profile is read
    from userinfo as at sign-in, since a provider may keep it only there.
    """
    try:
        token = idp.fetch_access_token(
            refresh_token=refresh_token, grant_type="refresh_token", scope=scope
        )
        claims = idp.parse_id_token(
            token, nonce=None, claims_options=claims_options(issuer, client_id)
        )
    except (AuthlibBaseError, JoseError, ValueError, RequestException) as err:
        raise SignInError(f"the refresh was rejected: {type(err).__name__}") from err
    if claims is None or claims.get("sub") != subject:
        raise SignInError("the refreshed ID token names another subject")
    profile = {**claims, **_userinfo(idp, token, subject=subject)}
    return profile, token.get("refresh_token")
