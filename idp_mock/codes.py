"""Send six-digit confirmation codes by 'SMS' and 'e-mail' (the dev outbox) and check them."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from idp_mock.account_models import ConfirmationCode
from idp_mock.account_models import OutboxMessage

log = logging.getLogger(__name__)

SMS = "sms"
EMAIL = "email"

# As ESIA's login API announces them: code_length 6, verify_timeout_secs 300, 3 attempts.
TEXTS = {
    SMS: "Код подтверждения: {code}. Никому не сообщайте его. Госуслуги (демо)",
    EMAIL: "Здравствуйте! Ваш код подтверждения: {code}. Он действует {minutes} мин.",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CodePolicy:
    """Say how long a code lives and how many wrong entries it survives."""

    ttl: int = 300
    attempts: int = 3


class CodeError(Exception):
    """Refuse a code: `reason` is wrong, expired, exhausted or missing."""

    def __init__(self, reason: str, attempts_left: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts_left = attempts_left


def send_code(
    session: Session, *, purpose: str, channel: str, recipient: str, now: int, policy: CodePolicy
) -> ConfirmationCode:
    """Issue a new code (the previous one stops working) and deliver it to the outbox."""
    session.execute(
        sa.update(ConfirmationCode)
        .where(ConfirmationCode.purpose == purpose, ConfirmationCode.channel == channel)
        .values(superseded=True)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    row = ConfirmationCode(
        purpose=purpose,
        channel=channel,
        recipient=recipient,
        code=code,
        expires_at=now + policy.ttl,
        attempts_left=policy.attempts,
    )
    text = TEXTS[channel].format(code=code, minutes=max(1, policy.ttl // 60))
    session.add(row)
    session.add(
        OutboxMessage(channel=channel, recipient=recipient, text=text, code=code, sent_at=now)
    )
    session.commit()
    # Development only: the log is the other place a developer finds the code.
    log.info("outbox %s to %s: %s", channel, recipient, text)
    return row


def _latest(session: Session, purpose: str, channel: str) -> ConfirmationCode | None:
    return session.scalars(
        sa.select(ConfirmationCode).where(
            ConfirmationCode.purpose == purpose,
            ConfirmationCode.channel == channel,
            ConfirmationCode.superseded.is_(False),
        )
    ).first()


def verify_code(session: Session, *, purpose: str, channel: str, entered: str, now: int) -> None:
    """Accept the entered code or raise CodeError; each wrong entry costs one attempt."""
    row = _latest(session, purpose, channel)
    if row is None:
        raise CodeError("missing")
    if row.confirmed:
        return
    if now > row.expires_at:
        raise CodeError("expired")
    if row.attempts_left <= 0:
        raise CodeError("exhausted")
    if not secrets.compare_digest(row.code, entered.strip()):
        row.attempts_left -= 1
        session.commit()
        raise CodeError("wrong" if row.attempts_left else "exhausted", row.attempts_left)
    row.confirmed = True
    session.commit()


def is_confirmed(session: Session, *, purpose: str, channel: str) -> bool:
    """Tell whether the current code of this purpose and channel was confirmed."""
    row = _latest(session, purpose, channel)
    return row is not None and row.confirmed


def outbox(session: Session, *, limit: int = 50) -> list[OutboxMessage]:
    """Return the newest outbox messages first."""
    statement = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    return list(session.scalars(statement))


def code_message(error: CodeError) -> str:
    """Return ESIA-style Russian wording for a refused code."""
    if error.reason == "wrong":
        return f"Неверный код. Осталось попыток: {error.attempts_left}"
    if error.reason == "expired":
        return "Срок действия кода истёк. Запросите новый код"
    if error.reason == "exhausted":
        return "Попытки ввода кода исчерпаны. Запросите новый код"
    return "Код не запрашивался. Запросите новый код"
