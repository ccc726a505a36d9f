"""Store the mock provider's people, codes, tokens, consents and signing keys."""

from __future__ import annotations

import datetime as dt
import time
import typing as t

from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

if t.TYPE_CHECKING:
    from idp_mock.clients import RegisteredClient

LEVELS = ("simplified", "standard", "confirmed")


class Base(DeclarativeBase):
    """Declare the mock's own tables."""


class Person(Base):
    """Hold one account at the provider, as ESIA would."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    oid: Mapped[int] = mapped_column(unique=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    birthdate: Mapped[dt.date | None]
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    phone_verified: Mapped[bool] = mapped_column(default=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    email_verified: Mapped[bool] = mapped_column(default=True)
    snils: Mapped[str | None] = mapped_column(String(11), unique=True)
    level: Mapped[str] = mapped_column(String(16), default="simplified")
    password_hash: Mapped[str] = mapped_column(String(255))
    passport_series: Mapped[str | None] = mapped_column(String(4))
    passport_number: Mapped[str | None] = mapped_column(String(6))
    passport_issued_on: Mapped[dt.date | None]
    passport_issuer_code: Mapped[str | None] = mapped_column(String(7))
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Person oid={self.oid} level={self.level}>"

    def get_user_id(self) -> int:
        """Return the primary key authlib stores with codes and tokens."""
        return self.id

    @property
    def full_name(self) -> str:
        """Return the name in Russian order: family, given, patronymic."""
        parts = [self.family_name, self.given_name, self.middle_name]
        return " ".join(part for part in parts if part)


class AuthorizationCode(Base, AuthorizationCodeMixin):  # type: ignore[misc]  # authlib is untyped
    """Hold one authorization code until it is redeemed (then kept, marked used)."""

    __tablename__ = "authorization_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    client_id: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    auth_time: Mapped[int]
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    issued_at: Mapped[int] = mapped_column(default=lambda: int(time.time()))
    used: Mapped[bool] = mapped_column(default=False)
    # The provider session (OIDC `sid`) the code was issued in, for back-channel logout.
    sid: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship()

    def __repr__(self) -> str:
        return f"<AuthorizationCode client={self.client_id} used={self.used}>"

    def get_redirect_uri(self) -> str:
        """Return the redirect URI the code was issued for."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """Return the granted scope."""
        return self.scope

    def get_nonce(self) -> str | None:
        """Return the nonce to copy into the ID token."""
        return self.nonce

    def get_auth_time(self) -> int:
        """Return when the person signed in."""
        return self.auth_time

    def get_amr(self) -> list[str]:
        """Return the RFC 8176 method: a password (an array, unlike real ESIA's "PWD")."""
        return ["pwd"]


class Token(Base):
    """Hold one issued bearer access token and, with offline_access, its refresh token."""

    __tablename__ = "token"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(String(255), unique=True)
    client_id: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[int] = mapped_column(default=lambda: int(time.time()))
    expires_in: Mapped[int]
    revoked: Mapped[bool] = mapped_column(default=False)
    # Kept so that a replayed code can revoke what it already produced (RFC 9700 §4.2.1).
    code_id: Mapped[int | None] = mapped_column(ForeignKey("authorization_code.id"))
    refresh_token: Mapped[str | None] = mapped_column(String(255), unique=True)
    refresh_expires_at: Mapped[int] = mapped_column(default=0)
    # Set once the refresh token was exchanged: a second use means it leaked (RFC 9700 §4.14).
    refresh_used: Mapped[bool] = mapped_column(default=False)
    refresh_revoked: Mapped[bool] = mapped_column(default=False)
    # Every token refreshed from one code shares the family; a replay revokes them all.
    family: Mapped[str] = mapped_column(String(64), default="")
    auth_time: Mapped[int] = mapped_column(default=0)
    sid: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship()
    # Clients live in settings, not in this database; the validator fills this in. Declared
    # for the type checker only: the declarative mapping would take an annotation for a column.
    if t.TYPE_CHECKING:
        client: RegisteredClient | None
    client = None

    def __repr__(self) -> str:
        return f"<Token client={self.client_id} revoked={self.revoked}>"

    def get_scope(self) -> str:
        """Return the granted scope."""
        return self.scope

    def get_expires_in(self) -> int:
        """Return the lifetime in seconds."""
        return self.expires_in

    def is_expired(self) -> bool:
        """Tell whether the lifetime has passed."""
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        """Tell whether the token was revoked."""
        return self.revoked

    def get_user(self) -> Person:
        """Return the person the token speaks for."""
        return self.person

    def get_client(self) -> RegisteredClient | None:
        """Return the registered client, attached by the bearer validator."""
        return self.client

    def check_client(self, client: t.Any) -> bool:
        """Tell whether the token was issued to this client."""
        return bool(self.client_id == client.get_client_id())


class Consent(Base):
    """Remember that a person allowed a client a given set of scopes."""

    __tablename__ = "consent"
    __table_args__ = (UniqueConstraint("person_id", "client_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    client_id: Mapped[str] = mapped_column(String(100))
    # Scopes sorted and space-separated, so one set has one spelling.
    scope: Mapped[str] = mapped_column(Text)


class SigningKey(Base):
    """Hold one RS256 signing key as a private JWK."""

    __tablename__ = "signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(default=lambda: int(time.time()))
    # When a newer key took over; the public half stays published until `prune` drops it.
    retired_at: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<SigningKey kid={self.kid}>"


class SessionClient(Base):
    """Remember which clients a person signed in to during one provider session."""

    __tablename__ = "session_client"
    __table_args__ = (UniqueConstraint("sid", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    client_id: Mapped[str] = mapped_column(String(100))

    person: Mapped[Person] = relationship()
