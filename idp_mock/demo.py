"""Seed the five people of the demo world (shared/DEMO.md), idempotently."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from idp_mock.models import Person


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoPerson:
    """Describe one demo account."""

    oid: int
    family_name: str
    given_name: str
    middle_name: str
    birthdate: dt.date | None
    phone: str
    email: str
    snils: str | None
    level: str
    password: str
    passport: tuple[str, str, dt.date, str] | None = None


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        oid=1000000001,
        family_name="Смирнова",
        given_name="Ирина",
        middle_name="Сергеевна",
        birthdate=dt.date(1985, 3, 14),
        phone="+79000000001",
        email="irina.smirnova@example.test",
        snils="11223344595",
        level="confirmed",
        password="parent-demo-1",
        passport=("4509", "123456", dt.date(2005, 4, 1), "770-001"),
    ),
    DemoPerson(
        oid=1000000002,
        family_name="Кузнецов",
        given_name="Алексей",
        middle_name="Петрович",
        birthdate=dt.date(1982, 11, 2),
        phone="+79000000002",
        email="a.kuznetsov@example.test",
        snils="12345678964",
        level="standard",
        password="parent-demo-2",
        passport=("3602", "654321", dt.date(2002, 12, 10), "630-002"),
    ),
    DemoPerson(
        oid=1000000003,
        family_name="Смирнова",
        given_name="Галина",
        middle_name="Ивановна",
        birthdate=dt.date(1958, 7, 21),
        phone="+79000000003",
        email="galina.smirnova@example.test",
        snils="20030040048",
        level="confirmed",
        password="granny-demo-3",
        passport=("4503", "111222", dt.date(2003, 8, 5), "770-003"),
    ),
    DemoPerson(
        oid=1000000004,
        family_name="Орлова",
        given_name="Мария",
        middle_name="Андреевна",
        # DEMO.md gives no birth date for the operator; this one is made up.
        birthdate=dt.date(1979, 5, 5),
        phone="+79000000004",
        email="m.orlova@example.test",
        snils="14522637852",
        level="confirmed",
        password="operator-demo-4",
        passport=("3604", "333444", dt.date(2004, 6, 1), "630-004"),
    ),
    DemoPerson(
        oid=1000000005,
        family_name="Новиков",
        given_name="Павел",
        middle_name="Олегович",
        # A simplified ESIA account holds no birth date: it comes with the passport data.
        birthdate=None,
        phone="+79000000005",
        email="p.novikov@example.test",
        snils=None,
        level="simplified",
        password="simple-demo-5",
    ),
)


@functools.cache
def _demo_hash(password: str) -> str:
    # Hashed once per process: tests build many apps, and scrypt takes ~60 ms a hash.
    return generate_password_hash(password)


def seed_demo_people(session: Session) -> int:
    """Add the demo people that are missing (matched by oid); return how many were added."""
    existing = set(session.scalars(sa.select(Person.oid)))
    added = 0
    for demo in DEMO_PEOPLE:
        if demo.oid in existing:
            continue
        series, number, issued_on, issuer_code = demo.passport or (None, None, None, None)
        session.add(
            Person(
                oid=demo.oid,
                family_name=demo.family_name,
                given_name=demo.given_name,
                middle_name=demo.middle_name,
                birthdate=demo.birthdate,
                phone=demo.phone,
                email=demo.email,
                snils=demo.snils,
                level=demo.level,
                password_hash=_demo_hash(demo.password),
                passport_series=series,
                passport_number=number,
                passport_issued_on=issued_on,
                passport_issuer_code=issuer_code,
            )
        )
        added += 1
    session.commit()
    return added
