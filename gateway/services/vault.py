"""Encrypt school credentials and backend sessions at rest, with key rotation.

The first key encrypts; every key decrypts. Rotation re-encrypts every stored secret
(credentials, backend and provider sessions, application documents, undelivered links)
with the first key, after which retired keys can be removed from ``GATEWAY_VAULT_KEYS``.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Sequence

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import BackendSession
from connectors.base import Credentials
from gateway.models import AccessApplication
from gateway.models import OutboxMessage
from gateway.models import SchoolCredential
from gateway.models import UserSession

# Every column the vault seals. One left out here keeps its old key through a rotation and
# cannot be read once that key is retired (tests check that every binary column is named).
SEALED_COLUMNS: tuple[tuple[type[t.Any], tuple[str, ...]], ...] = (
    (SchoolCredential, ("secret", "backend_session")),
    (UserSession, ("provider_refresh_token", "id_token")),
    (AccessApplication, ("documents",)),
    (OutboxMessage, ("sealed",)),
)


class VaultError(Exception):
    """A secret could not be decrypted with any configured key."""


class Vault:
    """Symmetric encryption of small secrets with MultiFernet."""

    def __init__(self, keys: Sequence[str]) -> None:
        """Build from Fernet keys, primary first.

        :raise ValueError: when no key is given or a key is malformed.
        """
        if not keys:
            raise ValueError("the vault needs at least one key")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError as err:
            raise ValueError("a vault key is not a valid Fernet key") from err

    def encrypt(self, payload: t.Mapping[str, t.Any]) -> bytes:
        """Encrypt a JSON-serializable mapping."""
        return self._fernet.encrypt(json.dumps(payload, ensure_ascii=False).encode())

    def decrypt(self, token: bytes) -> dict[str, t.Any]:
        """Decrypt a mapping encrypted by :meth:`encrypt` with any configured key."""
        try:
            return t.cast(dict[str, t.Any], json.loads(self._fernet.decrypt(token)))
        except InvalidToken as err:
            raise VaultError("no configured key decrypts this secret") from err

    def rotate_token(self, token: bytes) -> bytes:
        """Re-encrypt a token under the primary key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as err:
            raise VaultError("no configured key decrypts this secret") from err

    def seal_credentials(self, credentials: Credentials | None) -> bytes:
        """Encrypt a school-issued login (None: access granted on the backend's own page)."""
        if credentials is None:
            return self.encrypt({"kind": "authorized"})
        return self.encrypt(
            {
                "kind": "password",
                "login": credentials.login,
                "password": credentials.password,
                "school": credentials.school,
            }
        )

    def open_credentials(self, token: bytes) -> Credentials | None:
        """Decrypt a login sealed by :meth:`seal_credentials`; None when there is none."""
        raw = self.decrypt(token)
        if raw.get("kind") == "authorized":
            return None
        return Credentials(login=raw["login"], password=raw["password"], school=raw.get("school"))

    def seal_session(self, backend_session: BackendSession) -> bytes:
        """Encrypt a connector's backend session for storage."""
        return self.encrypt({"session": backend_session.to_json()})

    def open_session(self, token: bytes) -> BackendSession:
        """Decrypt a backend session sealed by :meth:`seal_session`."""
        return BackendSession.from_json(self.decrypt(token)["session"])


def rotate_all(session: Session, *, vault: Vault) -> int:
    """Re-encrypt every sealed value under the primary key; return how many rows changed."""
    changed = 0
    for model, columns in SEALED_COLUMNS:
        for row in session.scalars(select(model)):
            sealed = {c: getattr(row, c) for c in columns if getattr(row, c) is not None}
            for column, token in sealed.items():
                setattr(row, column, vault.rotate_token(token))
            changed += bool(sealed)
    session.flush()
    return changed
