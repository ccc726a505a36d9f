"""Find a person by phone, e-mail or SNILS and check the password."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from idp_mock import counters
from idp_mock.account_models import FailureCounter
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


def login_key(login: str) -> str:
    """Name an unknown login's counter; the hash keeps the typed text out of the database."""
    login = login.strip()
    if "@" in login:
        canonical = "email:" + login.lower()
    elif phone := normalize_phone(login):
        canonical = "phone:" + phone
    elif snils := normalize_snils(login):
        canonical = "snils:" + snils
    else:
        canonical = "other:" + login.lower()
    return "login:" + hashlib.sha256(canonical.encode()).hexdigest()


def check_login(
    session: Session, login: str, password: str, *, now: int, policy: LockoutPolicy
) -> LoginOutcome:
    """Check the password against the lockout policy, counting failures per account.

    A login that names nobody gets a counter of its own and the same password-hash work, so
    that the answer (wording, attempts left, the lock, and as far as practical the time taken)
    does not tell an unknown account from an existing one.
    """
    person = find_person(session, login)
    counted = person if person is not None else login_key(login)
    locked_until = _locked_until(session, counted)
    if locked_until > now:
        return LoginOutcome(None, locked_until=locked_until)
    stored = person.password_hash if person is not None else _DUMMY_HASH
    if check_password_hash(stored, password) and person is not None:
        if not person.mfa_enabled:
            # With the sign-in code on, only the right code clears the count (auth.py).
            person.failed_logins = 0
        session.commit()
        return LoginOutcome(person)
    return count_failure(session, counted, now=now, policy=policy)


def _locked_until(session: Session, counted: Person | str) -> int:
    if isinstance(counted, Person):
        return counted.locked_until
    found = session.get(FailureCounter, counted)
    return found.locked_until if found is not None else 0


def count_failure(
    session: Session, counted: Person | str, *, now: int, policy: LockoutPolicy
) -> LoginOutcome:
    """Count one wrong password or sign-in code for a person or an unknown login's key.

    The database adds the one, so parallel attempts each count: the one that uses up the
    policy's attempts locks the account, and every attempt after it is told so.
    """
    if isinstance(counted, Person):
        entity: type[Person] | type[FailureCounter] = Person
        where = Person.id == counted.id
    else:
        counters.ensure_counter(session, counted)
        entity, where = FailureCounter, FailureCounter.key == counted
    tally = counters.count_failure(
        session, entity, where, now=now, attempts=policy.attempts, seconds=policy.seconds
    )
    session.commit()
    if tally.locked_until > now:
        return LoginOutcome(None, locked_until=tally.locked_until)
    return LoginOutcome(None, attempts_left=policy.attempts - tally.failed)
