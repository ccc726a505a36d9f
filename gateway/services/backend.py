"""Keep a connector's backend session encrypted at rest."""

from __future__ import annotations

from connectors.base import BackendSession
from gateway.services.vault import Vault


def seal_session(vault: Vault, backend_session: BackendSession) -> bytes:
    """Encrypt a backend session for storage."""
    return vault.encrypt({"session": backend_session.to_json()})


def open_session(vault: Vault, token: bytes) -> BackendSession:
    """Decrypt a stored backend session."""
    return BackendSession.from_json(vault.decrypt(token)["session"])
