"""Raise account levels: SNILS and passport with an automatic check, then a service centre."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from idp_mock.account_models import LevelRequest
from idp_mock.accounts import normalize_snils
from idp_mock.models import Person

REJECT_SNILS = "СФР: СНИЛС не найден или принадлежит другому человеку"
REJECT_PASSPORT = "МВД: паспорт недействителен или данные не совпадают"
REJECT_SNILS_TAKEN = "СНИЛС уже указан в другой учётной записи"


class LevelError(Exception):
    """Refuse level data: `errors` maps each field to a Russian message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True, kw_only=True)
class Documents:
    """Hold the SNILS and passport data as typed into the form."""

    snils: str
    birthdate: str
    passport_series: str
    passport_number: str
    passport_issued_on: str
    passport_issuer_code: str


def snils_checksum_ok(digits: str) -> bool:
    """Check the SNILS control number: weights 9..1 over the first nine digits, mod 101."""
    if not re.fullmatch(r"\d{11}", digits):
        return False
    weights = range(9, 0, -1)
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], weights, strict=True))
    expected = total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)
    return int(digits[9:]) == expected


def _date(value: str) -> dt.date | None:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def check_documents(documents: Documents, *, today: dt.date) -> dict[str, object]:
    """Validate the formats; return clean values or raise LevelError."""
    errors: dict[str, str] = {}
    snils = normalize_snils(documents.snils)
    if snils is None or not snils_checksum_ok(snils):
        errors["snils"] = "Неверный СНИЛС: проверьте номер и контрольное число"
    birthdate = _date(documents.birthdate)
    if birthdate is None or not dt.date(1900, 1, 1) <= birthdate <= today:
        errors["birthdate"] = "Укажите дату рождения в формате ДД.ММ.ГГГГ"
    if not re.fullmatch(r"\d{4}", documents.passport_series.replace(" ", "")):
        errors["passport_series"] = "Серия паспорта — 4 цифры"
    if not re.fullmatch(r"\d{6}", documents.passport_number.strip()):
        errors["passport_number"] = "Номер паспорта — 6 цифр"
    issued_on = _date(documents.passport_issued_on)
    if issued_on is None or issued_on > today or (birthdate and issued_on <= birthdate):
        errors["passport_issued_on"] = "Укажите дату выдачи паспорта в формате ДД.ММ.ГГГГ"
    if not re.fullmatch(r"\d{3}-\d{3}", documents.passport_issuer_code.strip()):
        errors["passport_issuer_code"] = "Код подразделения в формате 000-000"
    if errors:
        raise LevelError(errors)
    return {
        "snils": snils,
        "birthdate": birthdate,
        "passport_series": documents.passport_series.replace(" ", ""),
        "passport_number": documents.passport_number.strip(),
        "passport_issued_on": issued_on,
        "passport_issuer_code": documents.passport_issuer_code.strip(),
    }


def latest_request(session: Session, person: Person) -> LevelRequest | None:
    """Return the person's most recent level request."""
    statement = (
        sa.select(LevelRequest)
        .where(LevelRequest.person_id == person.id)
        .order_by(LevelRequest.id.desc())
    )
    return session.scalars(statement).first()


def submit(
    session: Session, person: Person, documents: Documents, *, now: int, delay: int
) -> LevelRequest:
    """Queue the documents for the automatic check that decides after `delay` seconds.

    Raises:
        LevelError: on a bad format, or when the account is not simplified or already queued.
    """
    current = latest_request(session, person)
    if person.level != "simplified" or (current is not None and current.status == "pending"):
        raise LevelError({"form": "Данные уже отправлены на проверку или не требуются"})
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    values = check_documents(documents, today=today)
    request = LevelRequest(person_id=person.id, submitted_at=now, due_at=now + delay, **values)
    session.add(request)
    session.commit()
    return request


def settle(
    session: Session, *, now: int, bad_snils: Collection[str], bad_passports: Collection[str]
) -> list[LevelRequest]:
    """Decide every pending request whose check time has come; return them."""
    due = session.scalars(
        sa.select(LevelRequest).where(LevelRequest.status == "pending", LevelRequest.due_at <= now)
    ).all()
    for request in due:
        _decide(session, request, bad_snils, bad_passports)
    if due:
        session.commit()
    return list(due)


def _decide(
    session: Session,
    request: LevelRequest,
    bad_snils: Collection[str],
    bad_passports: Collection[str],
) -> None:
    taken = session.scalars(
        sa.select(Person.id).where(Person.snils == request.snils, Person.id != request.person_id)
    ).first()
    if request.snils in bad_snils:
        request.status, request.reason = "rejected", REJECT_SNILS
    elif request.passport_series + request.passport_number in bad_passports:
        request.status, request.reason = "rejected", REJECT_PASSPORT
    elif taken is not None:
        request.status, request.reason = "rejected", REJECT_SNILS_TAKEN
    else:
        request.status = "approved"
        person = request.person
        person.snils = request.snils
        person.birthdate = request.birthdate
        person.passport_series = request.passport_series
        person.passport_number = request.passport_number
        person.passport_issued_on = request.passport_issued_on
        person.passport_issuer_code = request.passport_issuer_code
        person.level = "standard"


def confirm_identity(session: Session, person: Person) -> None:
    """Mark a standard account confirmed, as a service centre does after seeing the passport.

    Raises:
        LevelError: when the account is not at the standard level.
    """
    if person.level != "standard":
        raise LevelError({"form": "Подтвердить можно только стандартную учётную запись"})
    person.level = "confirmed"
    session.commit()
