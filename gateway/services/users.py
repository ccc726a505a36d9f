"""People who sign in: created and refreshed from the identity provider's verified claims."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import PersonalDataConsent
from gateway.models import User
from gateway.services import upserts

# Account levels of the identity provider, lowest first (ESIA: упрощённая, стандартная,
# подтверждённая). A provider that sends no level is treated as the lowest.
LEVELS = ("simplified", "standard", "confirmed")


def has_level(user: User, minimum: str) -> bool:
    """Tell whether the person's account level is at least ``minimum``."""
    level = user.account_level if user.account_level in LEVELS else LEVELS[0]
    return LEVELS.index(level) >= LEVELS.index(minimum)


def _full_name(claims: Mapping[str, t.Any]) -> str:
    parts = [claims.get("family_name"), claims.get("given_name"), claims.get("middle_name")]
    joined = " ".join(p for p in parts if p)
    return joined or str(claims.get("name") or "")


def _birth_date(claims: Mapping[str, t.Any]) -> dt.date | None:
    raw = claims.get("birthdate")
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def upsert_from_claims(
    session: Session, *, issuer: str, claims: Mapping[str, t.Any], now: dt.datetime
) -> User:
    """Find the person by (issuer, sub), create them if new, and refresh their profile.

    One statement does both, so two tabs finishing a first sign-in at once make one person.
    """
    profile = {
        "full_name": _full_name(claims),
        "email": claims.get("email") if claims.get("email_verified", True) else None,
        "phone": (
            claims.get("phone_number") if claims.get("phone_number_verified", True) else None
        ),
        "birth_date": _birth_date(claims),
        "account_level": claims.get("account_level"),
        "last_login_at": now,
    }
    statement = upserts.insert(session, User).values(
        issuer=issuer, subject=str(claims["sub"]), **profile
    )
    statement = statement.on_conflict_do_update(
        index_elements=["issuer", "subject"],
        set_={name: statement.excluded[name] for name in profile},
    )
    return session.scalars(
        statement.returning(User), execution_options={"populate_existing": True}
    ).one()


def needs_consent(session: Session, user: User, version: str) -> bool:
    """Tell whether the person has yet to accept this version of the consent text."""
    found = session.scalar(
        select(PersonalDataConsent.id).where(
            PersonalDataConsent.user_id == user.id,
            PersonalDataConsent.text_version == version,
        )
    )
    return found is None


def record_consent(session: Session, user: User, version: str, *, now: dt.datetime) -> None:
    """Record that the person accepted this version of the consent text, and when.

    Accepting twice (two tabs, a resubmitted form) keeps the first acceptance.
    """
    statement = upserts.insert(session, PersonalDataConsent).values(
        user_id=user.id, text_version=version, accepted_at=now
    )
    session.execute(statement.on_conflict_do_nothing(index_elements=["user_id", "text_version"]))
