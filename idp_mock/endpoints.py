"""Serve the token-bound endpoints: userinfo, revocation, introspection, RP-initiated logout."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint
from authlib.oidc.rpinitiated import EndSessionRequest
from flask import request as flask_request
from joserfc.jwk import KeySet

from idp_mock import clock
from idp_mock import signin
from idp_mock.claims import person_claims
from idp_mock.claims import subject
from idp_mock.clients import AUTH_METHODS
from idp_mock.clients import RegisteredClient
from idp_mock.database import db
from idp_mock.faults import USERINFO_FAULTS
from idp_mock.keys import ALGORITHM
from idp_mock.models import Person
from idp_mock.models import Token
from idp_mock.runtime import Provider
from idp_mock.tokens import OTHER_SUB
from idp_mock.tokens import revoke_families

if t.TYPE_CHECKING:
    from authlib.integrations.flask_oauth2 import AuthorizationServer


class BearerValidator(BearerTokenValidator):  # type: ignore[misc]  # authlib is untyped
    """Find access tokens in the database and attach their client."""

    def __init__(self, provider: Provider) -> None:
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string: str) -> Token | None:
        """Return the stored token, or None when it or its client is unknown."""
        token = db().scalars(sa.select(Token).where(Token.access_token == token_string)).first()
        if token is None:
            return None
        token.client = self.provider.clients.get(token.client_id)
        return token if token.client is not None else None


class HeaderOrBodyProtector(ResourceProtector):  # type: ignore[misc]  # authlib is untyped
    """Accept the bearer token in the header, or as access_token in a form POST (RFC 6750 §2.2)."""

    def parse_request_authorization(self, request: t.Any) -> tuple[t.Any, str]:
        """Read the header; failing that, the form body of a POST (never the query)."""
        body_token = (
            flask_request.form.get("access_token") if flask_request.method == "POST" else None
        )
        if body_token and not flask_request.headers.get("Authorization"):
            return self.get_token_validator("bearer"), body_token
        return t.cast(tuple[t.Any, str], super().parse_request_authorization(request))


class PersonInfo(UserInfoEndpoint):  # type: ignore[misc]  # authlib is untyped
    """Serve /userinfo with the same person claims the ID token carries."""

    def __init__(self, provider: Provider, protector: ResourceProtector) -> None:
        super().__init__(resource_protector=protector)
        self.provider = provider

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        """Return the person's claims for the token's scope (or another sub, once, as a fault)."""
        claims = person_claims(user, scope)
        if self.provider.faults.take(USERINFO_FAULTS):
            claims["sub"] = OTHER_SUB
        return UserInfo(claims)


@dataclass(frozen=True, slots=True)
class TokenHandle:
    """Present one side of a stored token (its access or its refresh token) to authlib."""

    row: Token
    kind: str

    def check_client(self, client: RegisteredClient) -> bool:
        """Tell whether the token was issued to this client."""
        return self.row.check_client(client)

    def is_expired(self) -> bool:
        """Tell whether this side's lifetime has passed."""
        if self.kind == "refresh_token":
            return self.row.refresh_expires_at <= clock.now()
        return clock.now() >= self.row.issued_at + self.row.expires_in

    def is_revoked(self) -> bool:
        """Tell whether this side was revoked (a rotated refresh token counts as revoked)."""
        if self.kind == "refresh_token":
            return self.row.refresh_revoked or self.row.refresh_used
        return self.row.revoked


def find_token(token_string: str, hint: str | None) -> TokenHandle | None:
    """Find an access or refresh token, trying the hinted kind first (RFC 7009 §2.1)."""
    kinds = ["access_token", "refresh_token"]
    if hint == "refresh_token":
        kinds.reverse()
    for kind in kinds:
        column = Token.access_token if kind == "access_token" else Token.refresh_token
        row = db().scalars(sa.select(Token).where(column == token_string)).first()
        if row is not None:
            return TokenHandle(row, kind)
    return None


class Revocation(RevocationEndpoint):  # type: ignore[misc]  # authlib is untyped
    """Revoke access or refresh tokens (RFC 7009); a refresh token takes its family along."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenHandle | None:
        """Find the token."""
        return find_token(token_string, token_type_hint)

    def authenticate_token(self, request: OAuth2Request, client: RegisteredClient) -> t.Any:
        """Ignore another client's token: answer 200 as if unknown (RFC 7009 §2.2)."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        return token if token is not None and token.check_client(client) else None

    def revoke_token(self, token: TokenHandle, request: OAuth2Request) -> None:
        """Revoke an access token alone, or a refresh token with every token of its grant."""
        if token.kind == "refresh_token":
            revoke_families([token.row.family])
            return
        token.row.revoked = True
        db().commit()


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]  # authlib is untyped
    """Describe a token to the client it was issued to (RFC 7662)."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def __init__(self, provider: Provider) -> None:
        super().__init__()
        self.provider = provider

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenHandle | None:
        """Find the token."""
        return find_token(token_string, token_type_hint)

    def check_permission(
        self, token: TokenHandle, client: RegisteredClient, request: OAuth2Request
    ) -> bool:
        """Let only the client the token was issued to see it; others get active=false."""
        return token.check_client(client)

    def introspect_token(self, token: TokenHandle) -> dict[str, t.Any]:
        """Return the RFC 7662 §2.2 members."""
        row = token.row
        refresh = token.kind == "refresh_token"
        return {
            "active": True,
            "client_id": row.client_id,
            "token_type": "refresh_token" if refresh else "Bearer",
            "scope": row.scope,
            "sub": subject(row.person),
            "aud": row.client_id,
            "iss": self.provider.issuer,
            "iat": row.issued_at,
            "exp": row.refresh_expires_at if refresh else row.issued_at + row.expires_in,
        }


class Logout(EndSessionEndpoint):  # type: ignore[misc]  # authlib is untyped
    """Implement RP-initiated logout over the provider's keys and browser session."""

    def __init__(self, provider: Provider) -> None:
        super().__init__()
        self.provider = provider

    def get_server_jwks(self) -> KeySet:
        """Return our public keys, to check that we issued the id_token_hint."""
        return self.provider.keys.public_key_set()

    def get_algorithms(self) -> list[str]:
        """Accept hints signed with RS256 only."""
        return [ALGORITHM]

    def is_post_logout_redirect_uri_legitimate(
        self,
        request: OAuth2Request,
        post_logout_redirect_uri: str,
        client: RegisteredClient,
        logout_hint: str | None,
    ) -> bool:
        """Trust a registered URI without a hint only once the person confirmed (a POST)."""
        return bool(request.method == "POST")

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        """End the provider session and tell every client of it over the back channel."""
        hinted = (end_session_request.id_token_claims or {}).get("sid")
        signin.end_session(fallback_sid=hinted)


def register(server: AuthorizationServer, provider: Provider) -> None:
    """Register the token-bound endpoints on the server."""
    protector = HeaderOrBodyProtector()
    protector.register_token_validator(BearerValidator(provider))
    server.register_endpoint(PersonInfo(provider, protector))
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection(provider))
    server.register_endpoint(Logout(provider))
