"""Talk to a child's backend with the parent's stored credentials, reusing its session.

The backend session is kept encrypted beside the credentials and reused until it
expires, so reopening a page does not sign in to the regional system again.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import BackendSession
from connectors.base import Connector
from connectors.errors import InvalidCredentials
from connectors.errors import SessionExpired
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.models import SchoolCredential
from gateway.services.vault import Vault

T = t.TypeVar("T")


class RelinkRequired(Exception):
    """The school no longer accepts the stored credentials; the parent must relink."""


def seal_session(vault: Vault, backend_session: BackendSession) -> bytes:
    """Encrypt a backend session for storage."""
    return vault.encrypt({"session": backend_session.to_json()})


def open_session(vault: Vault, token: bytes) -> BackendSession:
    """Decrypt a stored backend session."""
    return BackendSession.from_json(vault.decrypt(token)["session"])


class BackendCaller:
    """Run connector calls for one stored credential, signing in only when needed."""

    def __init__(
        self,
        session: Session,
        credential: SchoolCredential,
        *,
        connector: Connector,
        vault: Vault,
        now: Callable[[], dt.datetime],
    ) -> None:
        """Bind a credential to its live connector."""
        self._session = session
        self._credential = credential
        self._connector = connector
        self._vault = vault
        self._now = now

    def call(self, fetch: Callable[[BackendSession], T]) -> T:
        """Call ``fetch`` with a valid backend session; re-login once if it has expired.

        :raise RelinkRequired: when the school refuses the stored credentials.
        """
        backend_session = self._stored_session()
        if backend_session is None:
            backend_session = self._login()
        try:
            return fetch(backend_session)
        except SessionExpired:
            return fetch(self._login())

    def _stored_session(self) -> BackendSession | None:
        token = self._credential.backend_session
        if token is None:
            return None
        stored = open_session(self._vault, token)
        return None if stored.expired(self._now()) else stored

    def _login(self) -> BackendSession:
        credentials = self._vault.open_credentials(self._credential.secret)
        try:
            fresh = self._connector.login(credentials)
        except InvalidCredentials as err:
            self._mark_relink_required()
            raise RelinkRequired from err
        self._credential.backend_session = seal_session(self._vault, fresh)
        self._session.flush()
        return fresh

    def _mark_relink_required(self) -> None:
        self._credential.backend_session = None
        links = self._session.scalars(
            select(ChildLink).where(ChildLink.credential_id == self._credential.id)
        )
        for link in links:
            link.status = LinkStatus.RELINK_REQUIRED
        self._session.flush()
