"""Find a person by phone, e-mail or SNILS and check the password."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from idp_mock.models import Person

# Checked against when the login matches nobody, so timing does not tell the two apart.
_DUMMY_HASH = "scrypt:32768:8:1$idpmockdummysalt$" + "0" * 128


def normalize_phone(raw: str) -> str | None:
    """Return a Russian mobile number as +7XXXXXXXXXX, or None if it is not one."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    return None


def normalize_snils(raw: str) -> str | None:
    """Return SNILS as its 11 digits, or None if the input has a different count."""
    if re.search(r"[^\d\s-]", raw.strip()):
        return None
    digits = re.sub(r"\D", "", raw)
    return digits if len(digits) == 11 else None


def format_snils(digits: str) -> str:
    """Format 11 SNILS digits as XXX-XXX-XXX YY."""
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:11]}"


def find_person(session: Session, login: str) -> Person | None:
    """Return the person whose phone, e-mail or SNILS the login names."""
    login = login.strip()
    if not login:
        return None
    if "@" in login:
        condition = sa.func.lower(Person.email) == login.lower()
    else:
        candidates = []
        if phone := normalize_phone(login):
            candidates.append(Person.phone == phone)
        if snils := normalize_snils(login):
            candidates.append(Person.snils == snils)
        if not candidates:
            return None
        condition = sa.or_(*candidates)
    return session.scalars(sa.select(Person).where(condition)).first()


def authenticate(session: Session, login: str, password: str) -> Person | None:
    """Return the person when the login and password match, else None."""
    person = find_person(session, login)
    if person is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(person.password_hash, password):
        return None
    return person


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """Describe a password check: the person, or why not (attempts left, locked until)."""

    person: Person | None
    attempts_left: int | None = None
    locked_until: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LockoutPolicy:
    """Lock an account for `seconds` after `attempts` wrong passwords in a row."""

    attempts: int = 5
    seconds: int = 900


def check_login(
    session: Session, login: str, password: str, *, now: int, policy: LockoutPolicy
) -> LoginOutcome:
    """Check the password against the lockout policy, counting failures per account."""
    person = find_person(session, login)
    if person is None:
        check_password_hash(_DUMMY_HASH, password)
        return LoginOutcome(None)
    if person.locked_until > now:
        return LoginOutcome(None, locked_until=person.locked_until)
    if check_password_hash(person.password_hash, password):
        person.failed_logins = 0
        session.commit()
        return LoginOutcome(person)
    person.failed_logins += 1
    if person.failed_logins >= policy.attempts:
        person.failed_logins = 0
        person.locked_until = now + policy.seconds
        session.commit()
        return LoginOutcome(None, locked_until=person.locked_until)
    session.commit()
    return LoginOutcome(None, attempts_left=policy.attempts - person.failed_logins)
