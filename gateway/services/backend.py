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
from connectors.base import RefreshesSession
from connectors.errors import InvalidCredentials
from connectors.errors import SecondFactorRequired
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
        """Call ``fetch`` with a valid backend session; renew it once if it has expired.

        :raise RelinkRequired: when the school refuses the stored access.
        """
        stored = self._stored_session()
        backend_session = stored
        if backend_session is None or backend_session.expired(self._now()):
            backend_session = self._renew(stored)
        try:
            return fetch(backend_session)
        except SessionExpired:
            return fetch(self._renew(backend_session))

    def _stored_session(self) -> BackendSession | None:
        token = self._credential.backend_session
        return None if token is None else open_session(self._vault, token)

    def _renew(self, previous: BackendSession | None) -> BackendSession:
        """Refresh the session where the backend allows it, else sign in again."""
        fresh = None
        if previous is not None and isinstance(self._connector, RefreshesSession):
            try:
                fresh = self._connector.refresh(previous)
            except (InvalidCredentials, SessionExpired):
                fresh = None
        if fresh is None:
            fresh = self._login(previous)
        self._credential.backend_session = seal_session(self._vault, fresh)
        self._session.flush()
        return fresh

    def _login(self, previous: BackendSession | None) -> BackendSession:
        credentials = self._vault.open_credentials(self._credential.secret)
        if credentials is None:  # granted on the backend's own page: only the parent can renew
            self._mark_relink_required()
            raise RelinkRequired
        try:
            return self._connector.login(credentials, previous=previous)
        except (InvalidCredentials, SecondFactorRequired) as err:
            self._mark_relink_required()
            raise RelinkRequired from err

    def _mark_relink_required(self) -> None:
        links = self._session.scalars(
            select(ChildLink).where(ChildLink.credential_id == self._credential.id)
        )
        for link in links:
            link.status = LinkStatus.RELINK_REQUIRED
        self._session.flush()
