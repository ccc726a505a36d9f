"""Wire authlib's authorization server: code grant, S256 PKCE, ID tokens, userinfo, logout."""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core import UserInfo
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint
from authlib.oidc.rpinitiated import EndSessionRequest
from flask import Flask
from joserfc.jwk import KeySet
from joserfc.jwk import RSAKey

from idp_mock import signin
from idp_mock.claims import SCOPES_SUPPORTED
from idp_mock.claims import person_claims
from idp_mock.clients import AUTH_METHODS
from idp_mock.clients import ClientRegistry
from idp_mock.clients import RegisteredClient
from idp_mock.database import db
from idp_mock.keys import ALGORITHM
from idp_mock.keys import KeyStore
from idp_mock.models import AuthorizationCode
from idp_mock.models import Person
from idp_mock.models import Token

EXTENSION = "idp_mock"
CODE_LIFETIME = 300


@dataclass(frozen=True)
class Provider:
    """Hold what every endpoint needs: issuer, token lifetime, keys and clients."""

    issuer: str
    token_ttl: int
    keys: KeyStore
    clients: ClientRegistry


class Server(AuthorizationServer):  # type: ignore[misc]
    """Bind authlib's Flask authorization server to the provider's clients and tokens."""

    def __init__(self, provider: Provider) -> None:
        super().__init__()
        self.provider = provider

    def query_client(self, client_id: str) -> RegisteredClient | None:
        """Return the registered client."""
        return self.provider.clients.get(client_id)

    def save_token(self, token: dict[str, t.Any], request: OAuth2Request) -> None:
        """Store an issued access token, remembering the code it came from."""
        code = request.authorization_code
        db().add(
            Token(
                access_token=token["access_token"],
                client_id=request.client.get_client_id(),
                person_id=request.user.id,
                scope=token.get("scope", ""),
                expires_in=int(token["expires_in"]),
                code_id=code.id if code is not None else None,
            )
        )


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
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


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    """Issue single-use codes; a replayed code revokes the tokens it produced."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    # Set by the view before the response is created: when the person signed in.
    auth_time: int | None = None

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
                auth_time=self.auth_time or int(time.time()),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
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
            db().execute(sa.update(Token).where(Token.code_id == row.id).values(revoked=True))
            db().commit()
            return None
        if time.time() > row.issued_at + CODE_LIFETIME:
            return None
        return row

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Mark the code used (kept, so a replay can be recognised)."""
        authorization_code.used = True
        db().commit()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Person:
        """Return the person the code was issued for."""
        return authorization_code.person


class IdToken(OpenIDCode):  # type: ignore[misc]
    """Sign ID tokens with the current key, naming its kid (esia-oidc.md finding 5)."""

    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def resolve_client_private_key(self, client: RegisteredClient) -> RSAKey:
        """Return the one current key, never a key set joserfc would pick from at random."""
        return self.provider.keys.current

    def get_client_algorithm(self, client: RegisteredClient) -> str:
        """Sign with RS256 only."""
        return ALGORITHM

    def get_encode_header(self, client: RegisteredClient) -> dict[str, str]:
        """Name the signing key's kid in every header."""
        return {"alg": ALGORITHM, "kid": self.provider.keys.current_kid, "typ": "JWT"}

    def get_client_claims(self, client: RegisteredClient) -> dict[str, t.Any]:
        """Return iss, aud (the client_id as a string), iat and exp."""
        now = int(time.time())
        return {
            "iss": self.provider.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + self.provider.token_ttl,
        }

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


class Issuer(IssuerParameter):  # type: ignore[misc]
    """Add the RFC 9207 iss parameter to authorization responses authlib builds."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        """Return the issuer, exactly as configured."""
        return self.issuer


class BearerValidator(BearerTokenValidator):  # type: ignore[misc]
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


class PersonInfo(UserInfoEndpoint):  # type: ignore[misc]
    """Serve /userinfo with the same person claims the ID token carries."""

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        """Return the person's claims for the token's scope."""
        return UserInfo(person_claims(user, scope))


class Logout(EndSessionEndpoint):  # type: ignore[misc]
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
        return request.method == "POST"

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        """Forget who is signed in at the provider."""
        signin.sign_out()


def config_oauth(app: Flask, provider: Provider) -> Server:
    """Create the authorization server for the app and register grants and endpoints."""
    server = Server(provider)
    server.init_app(app)
    server.scopes_supported = list(SCOPES_SUPPORTED)
    server.register_grant(CodeGrant, [S256CodeChallenge(required=True), IdToken(provider)])
    server.register_extension(Issuer(provider.issuer))
    protector = ResourceProtector()
    protector.register_token_validator(BearerValidator(provider))
    server.register_endpoint(PersonInfo(resource_protector=protector))
    server.register_endpoint(Logout(provider))
    app.extensions[EXTENSION] = provider
    app.extensions[EXTENSION + ".server"] = server
    return server
