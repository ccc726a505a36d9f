"""Encrypt school credentials and backend sessions at rest, with key rotation.

The first key encrypts; every key decrypts. Rotation re-encrypts every stored secret
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

from connectors.base import Credentials
from gateway.models import SchoolCredential


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


def rotate_all(session: Session, vault: Vault) -> int:
    """Re-encrypt every stored credential and backend session; return how many rows changed."""
    rows = session.scalars(select(SchoolCredential)).all()
    for row in rows:
        row.secret = vault.rotate_token(row.secret)
        if row.backend_session is not None:
            row.backend_session = vault.rotate_token(row.backend_session)
    session.flush()
    return len(rows)
