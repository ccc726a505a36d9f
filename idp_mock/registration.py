"""Register accounts as Gosuslugi does: validate, confirm phone and e-mail codes, then create."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from idp_mock import codes
from idp_mock.account_models import Registration
from idp_mock.accounts import normalize_phone
from idp_mock.models import Person

FIRST_REGISTERED_OID = 1000001000
_NAME = re.compile(r"^[А-ЯЁа-яё]+(?:[ '-][А-ЯЁа-яё]+)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RegistrationError(Exception):
    """Refuse a registration form: `errors` maps each field to a Russian message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True, kw_only=True)
class Applicant:
    """Hold what the registration form asks for."""

    family_name: str
    given_name: str
    middle_name: str = ""
    phone: str = ""
    email: str = ""
    password: str
    password_again: str


def password_problem(password: str, logins: list[str]) -> str | None:
    """Return why the password breaks the policy, or None when it is acceptable."""
    if len(password) < 8:
        return "Пароль должен содержать не менее 8 символов"
    if not re.search(r"[^\W\d_]", password) or not re.search(r"\d", password):
        return "Пароль должен содержать и буквы, и цифры"
    lowered = password.strip().lower()
    if any(lowered == login.lower() or normalize_phone(password) == login for login in logins):
        return "Пароль не должен совпадать с логином"
    return None


def _taken(session: Session, column: sa.SQLColumnExpression[str | None], value: str) -> bool:
    return session.scalars(sa.select(Person.id).where(column == value)).first() is not None


def check_applicant(session: Session, applicant: Applicant) -> tuple[str | None, str | None]:
    """Validate the form; return the normalized (phone, email) or raise RegistrationError."""
    errors: dict[str, str] = {}
    for field in ("family_name", "given_name", "middle_name"):
        value = getattr(applicant, field).strip()
        if (value or field != "middle_name") and not _NAME.match(value):
            errors[field] = "Используйте русские буквы, пробел, дефис или апостроф"
    phone = normalize_phone(applicant.phone) if applicant.phone.strip() else None
    email = applicant.email.strip().lower() or None
    if applicant.phone.strip() and phone is None:
        errors["phone"] = "Введите номер мобильного телефона в формате +7 900 000-00-00"
    elif phone and _taken(session, Person.phone, phone):
        errors["phone"] = "Этот номер телефона уже используется в другой учётной записи"
    if email and not _EMAIL.match(email):
        errors["email"] = "Введите адрес электронной почты, например ivanov@example.ru"
    elif email and _taken(session, sa.func.lower(Person.email), email):
        errors["email"] = "Эта почта уже используется в другой учётной записи"
    if not applicant.phone.strip() and not email:
        errors["phone"] = "Укажите мобильный телефон или электронную почту"
    logins = [login for login in (phone, email) if login]
    if problem := password_problem(applicant.password, logins):
        errors["password"] = problem
    elif applicant.password != applicant.password_again:
        errors["password_again"] = "Пароли не совпадают"
    if errors:
        raise RegistrationError(errors)
    return phone, email


def start(
    session: Session, applicant: Applicant, *, now: int, policy: codes.CodePolicy
) -> Registration:
    """Validate, keep the application and send a code to each contact.

    Raises:
        RegistrationError: when a field is invalid or a contact is already taken.
        codes.CodeLimit: when a contact got too many codes lately.
    """
    phone, email = check_applicant(session, applicant)
    for channel, recipient in ((codes.SMS, phone), (codes.EMAIL, email)):
        refused = recipient and codes.sending_refused(
            session, channel=channel, recipient=recipient, now=now, policy=policy
        )
        if refused:
            raise refused
    registration = Registration(
        handle=secrets.token_urlsafe(16),
        family_name=applicant.family_name.strip(),
        given_name=applicant.given_name.strip(),
        middle_name=applicant.middle_name.strip() or None,
        phone=phone,
        email=email,
        password_hash=generate_password_hash(applicant.password),
        created_at=now,
    )
    session.add(registration)
    session.commit()
    for channel, _ in channels(registration):
        send(session, registration, channel, now=now, policy=policy)
    return registration


def channels(registration: Registration) -> list[tuple[str, str]]:
    """Return the (channel, recipient) pairs the registration must confirm."""
    pairs = [(codes.SMS, registration.phone), (codes.EMAIL, registration.email)]
    return [(channel, recipient) for channel, recipient in pairs if recipient]


def send(
    session: Session,
    registration: Registration,
    channel: str,
    *,
    now: int,
    policy: codes.CodePolicy,
    resend: bool = False,
) -> None:
    """Send (or resend) the code of one channel.

    Raises:
        codes.CodeLimit: see ``codes.send_code``.
    """
    recipient = dict(channels(registration))[channel]
    codes.send_code(
        session,
        purpose=purpose(registration),
        channel=channel,
        recipient=recipient,
        now=now,
        policy=policy,
        resend=resend,
    )


def purpose(registration: Registration) -> str:
    """Return the purpose the registration's codes are filed under."""
    return f"registration:{registration.id}"


def pending_channels(session: Session, registration: Registration) -> list[str]:
    """Return the channels whose code is not confirmed yet."""
    return [
        channel
        for channel, _ in channels(registration)
        if not codes.is_confirmed(session, purpose=purpose(registration), channel=channel)
    ]


def complete(session: Session, registration: Registration) -> Person:
    """Create the simplified account once every contact is confirmed (idempotent)."""
    if registration.person_id is not None:
        return session.get_one(Person, registration.person_id)
    if pending_channels(session, registration):
        raise ValueError("contacts are not confirmed yet")
    highest = session.scalar(sa.select(sa.func.max(Person.oid))) or 0
    person = Person(
        oid=max(highest + 1, FIRST_REGISTERED_OID),
        family_name=registration.family_name,
        given_name=registration.given_name,
        middle_name=registration.middle_name,
        phone=registration.phone,
        email=registration.email,
        phone_verified=registration.phone is not None,
        email_verified=registration.email is not None,
        level="simplified",
        password_hash=registration.password_hash,
    )
    session.add(person)
    session.flush()
    registration.person_id = person.id
    session.commit()
    return person
