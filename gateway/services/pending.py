"""Hold a link that waits for the parent's one-time code, encrypted, for a few minutes.

Between "the backend asked for an SMS code" and "the parent typed it" the gateway must keep
the school password and the backend's challenge somewhere every instance can read: the
shared cache, sealed by the vault so the cache never sees them in the clear.
"""

from __future__ import annotations

import secrets
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.base import Credentials
from gateway.cache import Cache
from gateway.services.vault import Vault
from gateway.services.vault import VaultError

PENDING_SECONDS = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingLink:
    """A sign-in that stopped at a second factor."""

    user_id: int
    instance_key: str
    credentials: Credentials
    challenge: Mapping[str, t.Any]
    destination: str | None
    display_name: str | None = None


class PendingLinks:
    """Keep pending links in the cache under unguessable, single-person tokens."""

    def __init__(self, *, cache: Cache, vault: Vault) -> None:
        """Store in ``cache``, sealed by ``vault``."""
        self._cache = cache
        self._vault = vault

    def put(self, pending: PendingLink, token: str | None = None) -> str:
        """Store (or replace) a pending link; return its token."""
        token = token or secrets.token_urlsafe(24)
        sealed = self._vault.encrypt(
            {
                "user_id": pending.user_id,
                "instance_key": pending.instance_key,
                "credentials": self._vault.seal_credentials(pending.credentials).decode(),
                "challenge": dict(pending.challenge),
                "destination": pending.destination,
                "display_name": pending.display_name,
            }
        )
        self._cache.set(self._key(token), sealed.decode(), PENDING_SECONDS)
        return token

    def get(self, token: str, *, user_id: int) -> PendingLink | None:
        """Return the pending link if it exists, has not expired and belongs to this person."""
        raw = self._cache.get(self._key(token))
        if raw is None:
            return None
        try:
            payload = self._vault.decrypt(raw.encode())
            credentials = self._vault.open_credentials(payload["credentials"].encode())
        except VaultError:
            return None
        if payload["user_id"] != user_id or credentials is None:
            return None
        return PendingLink(
            user_id=user_id,
            instance_key=payload["instance_key"],
            credentials=credentials,
            challenge=payload["challenge"],
            destination=payload["destination"],
            display_name=payload.get("display_name"),
        )

    def drop(self, token: str) -> None:
        """Forget a pending link."""
        self._cache.delete(self._key(token))

    @staticmethod
    def _key(token: str) -> str:
        return f"pending-link:{token}"
