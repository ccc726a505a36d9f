"""Start and end a person's signed-in session, and keep the provider's tokens sealed.

The provider's refresh token and ID token are stored only encrypted by the vault, on the
session they came with. The OpenID Connect exchange itself (``gateway.auth.oidc``) stays
with the views: it needs the request; these functions take its results.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.cache import Cache
from gateway.models import User
from gateway.models import UserSession
from gateway.services import roles
from gateway.services import sessions
from gateway.services import users
from gateway.services.vault import Vault
from gateway.services.vault import VaultError

log = logging.getLogger(__name__)

# Refresh the provider's tokens: (refresh token, granted scope) -> (profile claims, the
# rotated refresh token or None). It raises what the exchange raises.
Refresh = Callable[[str, str | None], tuple[dict[str, t.Any], str | None]]

LOGOUT_TOKEN_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A person who has just signed in, and their new session."""

    user: User
    record: UserSession


def start_session(
    session: Session,
    *,
    token: Mapping[str, t.Any],
    issuer: str,
    vault: Vault,
    now: dt.datetime,
) -> SignedIn:
    """Record the person a verified token response names and open a session for them.

    ``token`` is the provider's token response with verified ``userinfo`` claims. Roles
    granted to the person's verified phone or e-mail become theirs; the refresh and ID
    tokens are kept sealed on the session. The caller commits.
    """
    claims = token["userinfo"]
    user = users.upsert_from_claims(session, issuer=issuer, claims=claims, now=now)
    roles.claim_pending(session, user)
    session.flush()
    record = sessions.start(session, user, provider_sid=claims.get("sid"), now=now)
    if token.get("refresh_token"):
        record.provider_refresh_token = vault.encrypt(
            {"rt": token["refresh_token"], "scope": token.get("scope")}
        )
    if token.get("id_token"):
        record.id_token = vault.encrypt({"id_token": token["id_token"]})
    return SignedIn(user=user, record=record)


def session_record(session: Session, session_id: str) -> UserSession | None:
    """Return the stored session a cookie names, ended or not; None for an unknown one."""
    return session.get(UserSession, session_id)


def refresh_profile(
    session: Session,
    record: UserSession | None,
    *,
    refresh: Refresh,
    issuer: str,
    vault: Vault,
    now: dt.datetime,
) -> bool:
    """Re-read the person's profile with the session's refresh token, and keep its successor.

    False when the session has no refresh token that opens (a fresh sign-in reads the
    profile instead). Whatever ``refresh`` raises propagates; the caller commits.
    """
    stored = _refresh_token_of(record, vault)
    if record is None or stored is None:
        return False
    claims, rotated = refresh(stored["rt"], stored.get("scope"))
    users.upsert_from_claims(session, issuer=issuer, claims=claims, now=now)
    if rotated:
        record.provider_refresh_token = vault.encrypt({**stored, "rt": rotated})
    return True


def _refresh_token_of(record: UserSession | None, vault: Vault) -> dict[str, t.Any] | None:
    """Open the session's provider refresh token; None without one or under a retired key."""
    if record is None or record.provider_refresh_token is None:
        return None
    try:
        return vault.decrypt(record.provider_refresh_token)
    except VaultError:
        log.warning("a session's provider refresh token no longer decrypts")
        return None


def end_session(
    session: Session,
    record: UserSession | None,
    *,
    user: User | None,
    everywhere: bool,
    vault: Vault,
    now: dt.datetime,
) -> str | None:
    """End the session (every session of ``user``, ``everywhere``); return its ID token.

    The ID token is for the provider's logout and is kept no longer. A session that timed
    out still has one: signing out then ends the provider's too. ``user`` is None when
    nobody is signed in any more; the caller commits.
    """
    id_token = _take_id_token(record, vault)
    if user is not None:
        if everywhere:
            sessions.end_all(session, user.id, reason="everywhere", now=now)
        elif record is not None:
            sessions.end(session, record, reason="logout", now=now)
    return id_token


def _take_id_token(record: UserSession | None, vault: Vault) -> str | None:
    if record is None or record.id_token is None:
        return None
    sealed, record.id_token = record.id_token, None
    try:
        return str(vault.decrypt(sealed)["id_token"])
    except VaultError:  # sealed under a retired key: sign out here all the same
        log.warning("a session's ID token no longer decrypts; provider sign-out skipped")
        return None


def seal_next(path: str, *, vault: Vault) -> str:
    """Seal where to go after sign-in: it may hold a bearer secret (an invitation)."""
    return vault.encrypt({"next": path}).decode()


def open_next(sealed: object, *, vault: Vault) -> str | None:
    """Open what :func:`seal_next` sealed; None when it is not that (or unreadable)."""
    if not isinstance(sealed, str):
        return None
    try:
        return str(vault.decrypt(sealed.encode())["next"])
    except (VaultError, KeyError):
        return None


def first_use_of_logout_token(jti: str, *, cache: Cache) -> bool:
    """Tell whether a logout token's id is seen for the first time (on any instance)."""
    key = f"logout-jti:{jti}"
    if cache.get(key) is not None:
        return False
    cache.set(key, "1", LOGOUT_TOKEN_SECONDS)
    return True
