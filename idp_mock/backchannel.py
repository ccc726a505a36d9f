"""Tell clients that a provider session ended (OpenID Connect Back-Channel Logout 1.0)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from idp_mock.claims import subject
from idp_mock.clients import ClientRegistry
from idp_mock.models import SessionClient
from idp_mock.tokens import Signer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LogoutNotice:
    """Hold one logout token and where to deliver it."""

    client_id: str
    uri: str
    logout_token: str


def notices_for(
    session: Session, sid: str, *, clients: ClientRegistry, signer: Signer, now: int
) -> list[LogoutNotice]:
    """Build a logout token for every client with a back-channel URI used in this session."""
    rows = session.scalars(sa.select(SessionClient).where(SessionClient.sid == sid)).all()
    notices = []
    for row in rows:
        client = clients.get(row.client_id)
        if client is None or not client.backchannel_logout_uri:
            continue
        token = signer.logout_token(
            client_id=client.client_id, sub=subject(row.person), sid=sid, now=now
        )
        notices.append(LogoutNotice(client.client_id, client.backchannel_logout_uri, token))
    return notices


def forget_session(session: Session, sid: str) -> None:
    """Drop the record of which clients the session signed in to."""
    session.execute(sa.delete(SessionClient).where(SessionClient.sid == sid))
    session.commit()


def deliver(notices: list[LogoutNotice], *, http: requests.Session, timeout: float) -> list[str]:
    """POST each logout token form-encoded; return the client_ids that answered 2xx.

    A client that is down must not keep the person signed in at the provider, so failures
    are logged and skipped: the provider session ends regardless.
    """
    delivered = []
    for notice in notices:
        try:
            reply = http.post(
                notice.uri, data={"logout_token": notice.logout_token}, timeout=timeout
            )
            reply.raise_for_status()
        except requests.RequestException as err:
            log.warning("back-channel logout to %s failed: %s", notice.client_id, err)
            continue
        delivered.append(notice.client_id)
    return delivered
