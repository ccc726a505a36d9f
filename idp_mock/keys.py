"""Keep the RS256 signing keys: generate on first start, persist, publish, pick by kid."""

from __future__ import annotations

import json
import typing as t

import sqlalchemy as sa
from joserfc.jwk import KeySet
from joserfc.jwk import RSAKey
from sqlalchemy.orm import Session

from idp_mock.models import SigningKey

ALGORITHM = "RS256"


class KeyStore:
    """Hold every signing key; the newest one signs, all are published."""

    def __init__(self, keys: t.Sequence[RSAKey]) -> None:
        if not keys:
            raise ValueError("a key store needs at least one key")
        self._keys = list(keys)

    @classmethod
    def load_or_create(cls, session: Session) -> KeyStore:
        """Load the persisted keys, generating and saving the first one if none exist."""
        rows = session.scalars(sa.select(SigningKey).order_by(SigningKey.id)).all()
        if not rows:
            key = generate_key()
            session.add(SigningKey(kid=key.kid, private_jwk=json.dumps(key.as_dict(private=True))))
            session.commit()
            return cls([key])
        return cls([RSAKey.import_key(json.loads(row.private_jwk)) for row in rows])

    @property
    def current(self) -> RSAKey:
        """Return the key that signs new tokens."""
        return self._keys[-1]

    @property
    def current_kid(self) -> str:
        """Return the kid every new token header names."""
        kid = self.current.kid
        assert kid, "persisted keys always carry a kid"
        return kid

    def public_jwks(self) -> dict[str, t.Any]:
        """Return the JWKS document: public parts only, each with kid, use and alg."""
        return {"keys": [key.as_dict(private=False) for key in self._keys]}

    def public_key_set(self) -> KeySet:
        """Return the public keys as a joserfc key set, for verifying our own tokens."""
        return KeySet.import_key_set(self.public_jwks())


def generate_key() -> RSAKey:
    """Generate a 2048-bit RSA key whose kid is its RFC 7638 thumbprint."""
    return RSAKey.generate_key(
        2048, parameters={"use": "sig", "alg": ALGORITHM}, private=True, auto_kid=True
    )
