"""Store what registration, confirmation codes, the dev outbox and level checks need."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from idp_mock.models import Base
from idp_mock.models import Person


class Registration(Base):
    """Hold a registration until its phone and e-mail codes are confirmed."""

    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The opaque handle in the confirmation page's URL.
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[int]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    def __repr__(self) -> str:
        return f"<Registration id={self.id} done={self.person_id is not None}>"


class ConfirmationCode(Base):
    """Hold one six-digit code sent by SMS or e-mail, with its lifetime and attempts."""

    __tablename__ = "confirmation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "registration:<id>" or "signin:<person id>": what the code confirms.
    purpose: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    code: Mapped[str] = mapped_column(String(6))
    expires_at: Mapped[int]
    attempts_left: Mapped[int]
    confirmed: Mapped[bool] = mapped_column(default=False)
    superseded: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<ConfirmationCode purpose={self.purpose} channel={self.channel}>"


class OutboxMessage(Base):
    """Keep one SMS or e-mail the provider 'sent', for the development outbox page."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(6))
    sent_at: Mapped[int]


class LevelRequest(Base):
    """Hold SNILS and passport data sent for the automatic check toward a standard account."""

    __tablename__ = "level_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    snils: Mapped[str] = mapped_column(String(11))
    birthdate: Mapped[dt.date]
    passport_series: Mapped[str] = mapped_column(String(4))
    passport_number: Mapped[str] = mapped_column(String(6))
    passport_issued_on: Mapped[dt.date]
    passport_issuer_code: Mapped[str] = mapped_column(String(7))
    submitted_at: Mapped[int]
    due_at: Mapped[int]
    # pending, approved or rejected
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)

    person: Mapped[Person] = relationship()

    def __repr__(self) -> str:
        return f"<LevelRequest person={self.person_id} status={self.status}>"


class FailureCounter(Base):
    """Count failed sign-ins for what is not an account: an unknown login, a client address."""

    __tablename__ = "failure_counter"

    # "login:<sha256 of the normalized login>" or "address:<client address>".
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<FailureCounter {self.key.split(':')[0]} failed={self.failed_logins}>"


class RecipientLock(Base):
    """Give each phone and e-mail a row that sending a code locks, so parallel sends queue."""

    __tablename__ = "recipient_lock"

    # "<channel>:<recipient>"
    key: Mapped[str] = mapped_column(String(263), primary_key=True)
