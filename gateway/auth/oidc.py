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
    return dict(token)
