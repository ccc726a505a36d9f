"""People who sign in: created and refreshed from the identity provider's verified claims."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import PersonalDataConsent
from gateway.models import User

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
    """Find the person by (issuer, sub), create them if new, and refresh their profile."""
    subject = str(claims["sub"])
    user = session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))
    if user is None:
        user = User(issuer=issuer, subject=subject)
        session.add(user)
    user.full_name = _full_name(claims)
    user.email = claims.get("email") if claims.get("email_verified", True) else None
    user.phone = claims.get("phone_number") if claims.get("phone_number_verified", True) else None
    user.birth_date = _birth_date(claims)
    user.account_level = claims.get("account_level")
    user.last_login_at = now
    session.flush()
    return user


def needs_consent(session: Session, user: User, version: str) -> bool:
    """Tell whether the person has yet to accept this version of the consent text."""
    found = session.scalar(
        select(PersonalDataConsent.id).where(
            PersonalDataConsent.user_id == user.id,
            PersonalDataConsent.text_version == version,
        )
    )
    return found is None


def record_consent(session: Session, user: User, version: str, now: dt.datetime) -> None:
    """Record that the person accepted this version of the consent text, and when."""
    session.add(PersonalDataConsent(user_id=user.id, text_version=version, accepted_at=now))
    session.flush()
