"""Remember in the provider's signed session cookie who is signed in, and since when."""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from flask import session

from idp_mock.database import db
from idp_mock.models import Person


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Describe the person signed in at the provider."""

    person: Person
    auth_time: int


def sign_in(person: Person) -> None:
    """Start a provider session for the person (a fresh session, against fixation)."""
    session.clear()
    session["person_id"] = person.id
    session["auth_time"] = int(time.time())


def sign_out() -> None:
    """End the provider session."""
    session.clear()


def current() -> SignedIn | None:
    """Return who is signed in, or None."""
    person_id = session.get("person_id")
    if person_id is None:
        return None
    person = db().scalars(sa.select(Person).where(Person.id == person_id)).first()
    if person is None:
        return None
    return SignedIn(person=person, auth_time=int(session.get("auth_time", 0)))
