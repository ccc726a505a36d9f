"""Keep the RS256 signing keys: generate, persist, rotate, publish, prune, pick by kid."""

from __future__ import annotations

import json
import threading

import sqlalchemy as sa
from joserfc.jwk import KeySet
from joserfc.jwk import KeySetSerialization
from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from idp_mock.models import SigningKey

ALGORITHM = "RS256"


class KeyStore:
    """Hold every signing key in the database; the newest signs, all unpruned are published.

    Keys are read from the database on each use, so a `rotate-keys` run from the command
    line takes effect in a provider that is already serving.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._parsed: dict[str, RSAKey] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, sessions: sessionmaker[Session], *, now: int) -> KeyStore:
        """Return the store, generating and saving the first key if none exists."""
        store = cls(sessions)
        with sessions() as session:
            if session.scalars(sa.select(SigningKey.id)).first() is None:
                _add_key(session, generate_key(), now)
                session.commit()
        return store

    def _keys(self) -> list[RSAKey]:
        with self._sessions() as session:
            rows = session.execute(
                sa.select(SigningKey.kid, SigningKey.private_jwk).order_by(SigningKey.id)
            ).all()
        with self._lock:
            for kid, private_jwk in rows:
                if kid not in self._parsed:
                    self._parsed[kid] = RSAKey.import_key(json.loads(private_jwk))
            return [self._parsed[kid] for kid, _ in rows]

    @property
    def current(self) -> RSAKey:
        """Return the key that signs new tokens: the newest one."""
        return self._keys()[-1]

    def public_jwks(self) -> KeySetSerialization:
        """Return the JWKS document: public parts only, each with kid, use and alg."""
        return {"keys": [key.as_dict(private=False) for key in self._keys()]}

    def public_key_set(self) -> KeySet:
        """Return the public keys as a joserfc key set, for verifying our own tokens."""
        return KeySet.import_key_set(self.public_jwks())

    def rotate(self, *, now: int) -> str:
        """Add a new key that signs from now on; retire (but keep publishing) the old ones."""
        key = generate_key()
        with self._sessions() as session:
            session.execute(
                sa.update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now)
            )
            _add_key(session, key, now)
            session.commit()
        assert key.kid
        return key.kid

    def prune(self, *, now: int, max_token_age: int) -> list[str]:
        """Drop retired keys whose every token has expired; return their kids."""
        with self._sessions() as session:
            stale = session.scalars(
                sa.select(SigningKey).where(SigningKey.retired_at <= now - max_token_age)
            ).all()
            kids = [row.kid for row in stale]
            for row in stale:
                session.delete(row)
            session.commit()
        return kids


def _add_key(session: Session, key: RSAKey, now: int) -> None:
    session.add(
        SigningKey(kid=key.kid, private_jwk=json.dumps(key.as_dict(private=True)), created_at=now)
    )


def generate_key() -> RSAKey:
    """Generate a 2048-bit RSA key whose kid is its RFC 7638 thumbprint."""
    return RSAKey.generate_key(
        2048, parameters={"use": "sig", "alg": ALGORITHM}, private=True, auto_kid=True
    )
