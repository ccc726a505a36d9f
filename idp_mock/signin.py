"""Remember in the provider's signed session cookie who is signed in, since when, and the sid."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import session

from idp_mock import clock
from idp_mock.database import db
from idp_mock.models import Person
from idp_mock.models import SessionClient

# Kept across sign-in and sign-out: the page language is the browser's, not the person's.
_KEPT = ("locale",)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Describe the person signed in at the provider."""

    person: Person
    auth_time: int
    sid: str


def _reset() -> None:
    kept = {key: session[key] for key in _KEPT if key in session}
    session.clear()
    session.update(kept)


def sign_in(person: Person) -> None:
    """Start a provider session for the person (a fresh session and sid, against fixation).

    Signing in as someone else ends the previous person's session first, back channel included.
    """
    previous = session.get("person_id")
    if previous is not None and previous != person.id:
        end_session()
    _reset()
    session["person_id"] = person.id
    session["auth_time"] = clock.now()
    session["sid"] = secrets.token_urlsafe(16)
    # Lets a prompt=login or max_age request that sent the person here through, once.
    session["fresh"] = True


def sign_out() -> None:
    """End the provider session in this browser only."""
    _reset()


def end_session(*, fallback_sid: str | None = None) -> list[str]:
    """Sign out and send logout tokens to the session's clients; return who received one."""
    from idp_mock import backchannel
    from idp_mock.runtime import provider

    sid = session.get("sid") or fallback_sid
    sign_out()
    if not sid:
        return []
    state = provider()
    notices = backchannel.notices_for(
        db(), sid, clients=state.clients, signer=state.signer, now=clock.now()
    )
    backchannel.forget_session(db(), sid)
    return backchannel.deliver(notices, http=state.http, timeout=state.backchannel_timeout)


def consume_fresh() -> bool:
    """Return True once right after an interactive sign-in."""
    return bool(session.pop("fresh", False))


def remember_client(signed_in: SignedIn, client_id: str) -> None:
    """Record that the session signed in to the client, for back-channel logout."""
    found = (
        db()
        .scalars(
            sa.select(SessionClient.id).where(
                SessionClient.sid == signed_in.sid, SessionClient.client_id == client_id
            )
        )
        .first()
    )
    if found is None:
        db().add(
            SessionClient(sid=signed_in.sid, person_id=signed_in.person.id, client_id=client_id)
        )
        db().commit()


def current() -> SignedIn | None:
    """Return who is signed in, or None."""
    person_id = session.get("person_id")
    if person_id is None:
        return None
    person = db().scalars(sa.select(Person).where(Person.id == person_id)).first()
    if person is None:
        return None
    return SignedIn(
        person=person, auth_time=int(session.get("auth_time", 0)), sid=session.get("sid", "")
    )
