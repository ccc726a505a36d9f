"""Wire authlib's authorization server: code and refresh grants, S256 PKCE, ID tokens."""

from __future__ import annotations

import secrets
import typing as t

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749 import scope_to_list
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.grants import RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants.util import is_openid_scope
from flask import Flask

from idp_mock import clock
from idp_mock import endpoints
from idp_mock.claims import SCOPES_SUPPORTED
from idp_mock.claims import person_claims
from idp_mock.clients import AUTH_METHODS
from idp_mock.clients import RegisteredClient
from idp_mock.database import db
from idp_mock.models import AuthorizationCode
from idp_mock.models import Person
from idp_mock.models import Token
from idp_mock.runtime import EXTENSION
from idp_mock.runtime import Provider
from idp_mock.tokens import IdTokenRequest
from idp_mock.tokens import revoke_families

CODE_LIFETIME = 300
OFFLINE_ACCESS = "offline_access"

__all__ = ["EXTENSION", "Provider", "Server", "CodeGrant", "config_oauth"]


class Server(AuthorizationServer):  # type: ignore[misc]  # authlib is untyped
    """Bind authlib's Flask authorization server to the provider's clients and tokens."""

    def __init__(self, provider: Provider) -> None:
        super().__init__()
        self.provider = provider

    def query_client(self, client_id: str) -> RegisteredClient | None:
        """Return the registered client."""
        return self.provider.clients.get(client_id)

    def save_token(self, token: dict[str, t.Any], request: OAuth2Request) -> None:
        """Store an issued token with its code or refresh family, auth_time and sid."""
        now = clock.now()
        code: AuthorizationCode | None = request.authorization_code
        previous: Token | None = request.refresh_token
        if code is not None:
            family, auth_time, sid = secrets.token_urlsafe(16), code.auth_time, code.sid
        else:
            assert previous is not None, "only the code and refresh grants are registered"
            family, auth_time, sid = previous.family, previous.auth_time, previous.sid
        refresh = token.get("refresh_token")
        db().add(
            Token(
                access_token=token["access_token"],
                client_id=request.client.get_client_id(),
                person_id=request.user.id,
                scope=token.get("scope", ""),
                issued_at=now,
                expires_in=int(token["expires_in"]),
                code_id=code.id if code is not None else None,
                refresh_token=refresh,
                refresh_expires_at=now + self.provider.refresh_ttl if refresh else 0,
                family=family,
                auth_time=auth_time,
                sid=sid,
            )
        )


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]  # authlib is untyped
    """Require PKCE with S256 from every client, confidential ones too (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        """Reject a missing challenge, and any method but S256 (a missing one means plain)."""
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send a code_challenge")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]  # authlib is untyped
    """Issue single-use codes; a replayed code revokes the tokens it produced."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    # Set by the view before the response is created: the provider session.
    auth_time: int | None = None
    sid: str | None = None

    def generate_token(self, *args: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
        """Add a refresh token only when offline_access was granted (OIDC Core §11)."""
        kwargs["include_refresh_token"] = OFFLINE_ACCESS in (scope_to_list(kwargs["scope"]) or [])
        return t.cast(dict[str, t.Any], super().generate_token(*args, **kwargs))

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        """Store the code with everything the token request will check."""
        data = request.payload.data
        db().add(
            AuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                person_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope or "",
                nonce=data.get("nonce"),
                auth_time=self.auth_time or clock.now(),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                issued_at=clock.now(),
                sid=self.sid,
            )
        )
        db().commit()

    def query_authorization_code(
        self, code: str, client: RegisteredClient
    ) -> AuthorizationCode | None:
        """Return a fresh, unused code of this client; on replay revoke its tokens."""
        statement = sa.select(AuthorizationCode).where(
            AuthorizationCode.code == code,
            AuthorizationCode.client_id == client.get_client_id(),
        )
        row = db().scalars(statement).first()
        if row is None:
            return None
        if row.used:
            families = db().scalars(sa.select(Token.family).where(Token.code_id == row.id))
            revoke_families(list(families))
            return None
        if clock.now() > row.issued_at + CODE_LIFETIME:
            return None
        return row

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Mark the code used (kept, so a replay can be recognised)."""
        authorization_code.used = True
        db().commit()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Person:
        """Return the person the code was issued for."""
        return authorization_code.person


class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]  # authlib is untyped
    """Rotate refresh tokens on use; a reused one revokes its whole family (RFC 9700 §4.14)."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        """Return the live token row, or None; a second use of a rotated one revokes all."""
        row = db().scalars(sa.select(Token).where(Token.refresh_token == refresh_token)).first()
        if row is None:
            return None
        if row.refresh_used:
            revoke_families([row.family])
            return None
        if row.refresh_revoked or row.refresh_expires_at <= clock.now():
            return None
        return row

    def authenticate_user(self, refresh_token: Token) -> Person:
        """Return the person the refresh token speaks for."""
        return refresh_token.person

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Mark the presented refresh token used: it never works again."""
        refresh_token.refresh_used = True
        db().commit()


class IdToken(OpenIDCode):  # type: ignore[misc]  # authlib is untyped
    """Issue the code grant's ID token through the provider's signer (kid, sid, faults)."""

    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def encode_id_token(self, token: dict[str, t.Any], request: OAuth2Request) -> str:
        """Sign the ID token for the redeemed code."""
        code: AuthorizationCode = request.authorization_code
        return self.provider.signer.id_token(
            IdTokenRequest(
                client_id=request.client.get_client_id(),
                person=request.user,
                scope=token["scope"],
                auth_time=code.auth_time,
                now=clock.now(),
                ttl=self.provider.token_ttl,
                access_token=token.get("access_token"),
                nonce=code.nonce,
                sid=code.sid,
            )
        )

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        """Tell whether this client already used the nonce."""
        statement = sa.select(AuthorizationCode.id).where(
            AuthorizationCode.client_id == request.payload.client_id,
            AuthorizationCode.nonce == nonce,
        )
        found = db().scalars(statement).first()
        return found is not None

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        """Return the person's claims for the granted scope."""
        return UserInfo(person_claims(user, scope))


class RefreshedIdToken:
    """Add an ID token to refresh responses, keeping iss, sub, aud, auth_time and sid."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def __call__(self, grant: RefreshGrant) -> None:
        """Hook into the refresh grant."""
        grant.register_hook("after_create_token_response", self.process_token)

    def process_token(self, grant: RefreshGrant, response: tuple[t.Any, ...]) -> None:
        """Sign a new ID token (no nonce: OIDC Core §12.2) into the token response."""
        _, token, _ = response
        if not is_openid_scope(token.get("scope")):
            return
        previous: Token = grant.request.refresh_token
        token["id_token"] = self.provider.signer.id_token(
            IdTokenRequest(
                client_id=grant.request.client.get_client_id(),
                person=grant.request.user,
                scope=token["scope"],
                auth_time=previous.auth_time,
                now=clock.now(),
                ttl=self.provider.token_ttl,
                access_token=token.get("access_token"),
                sid=previous.sid,
            ),
            refreshed=True,
        )


class Issuer(IssuerParameter):  # type: ignore[misc]  # authlib is untyped
    """Add the RFC 9207 iss parameter to authorization responses authlib builds."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        """Return the issuer, exactly as configured."""
        return self.issuer


def config_oauth(app: Flask, provider: Provider) -> Server:
    """Create the authorization server for the app and register grants and endpoints."""
    server = Server(provider)
    server.init_app(app)
    server.scopes_supported = list(SCOPES_SUPPORTED)
    server.register_grant(CodeGrant, [S256CodeChallenge(required=True), IdToken(provider)])
    server.register_grant(RefreshGrant, [RefreshedIdToken(provider)])
    server.register_extension(Issuer(provider.issuer))
    endpoints.register(server, provider)
    app.extensions[EXTENSION] = provider
    app.extensions[EXTENSION + ".server"] = server
    return server
