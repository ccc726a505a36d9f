"""Send six-digit confirmation codes by 'SMS' and 'e-mail' (the dev outbox) and check them."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from idp_mock.account_models import ConfirmationCode
from idp_mock.account_models import OutboxMessage
from idp_mock.account_models import RecipientLock
from idp_mock.counters import insert

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
    """Say how long a code lives, how many wrong entries it survives, and how often it is sent.

    A resend waits `resend_seconds` after the last code to the same recipient and keeps the
    attempts the replaced code had left; at most `sends` codes go to one recipient in
    `sends_window` seconds, whatever they confirm.
    """

    ttl: int = 300
    attempts: int = 3
    resend_seconds: int = 60
    sends: int = 5
    sends_window: int = 3600


class CodeError(Exception):
    """Refuse a code: `reason` is wrong, expired, exhausted or missing.

    `guessed` says that this entry was checked and wrong (it costs an attempt), as opposed
    to a code that could not be checked at all.
    """

    def __init__(self, reason: str, attempts_left: int = 0, *, guessed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts_left = attempts_left
        self.guessed = guessed


class CodeLimit(Exception):
    """Refuse to send a code of `channel`: `reason` is cooldown, cap or exhausted."""

    def __init__(self, reason: str, retry_in: int = 0, *, channel: str = SMS) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_in = retry_in
        self.channel = channel


def sending_refused(
    session: Session, *, channel: str, recipient: str, now: int, policy: CodePolicy
) -> CodeLimit | None:
    """Return why no code may go to the recipient now (too many sent lately), or None."""
    recent = list(
        session.scalars(
            sa.select(OutboxMessage.sent_at)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.recipient == recipient,
                OutboxMessage.code.is_not(None),
                OutboxMessage.sent_at > now - policy.sends_window,
            )
            .order_by(OutboxMessage.sent_at)
        )
    )
    if len(recent) >= policy.sends:
        retry_in = recent[-policy.sends] + policy.sends_window - now
        return CodeLimit("cap", retry_in, channel=channel)
    return None


def _hold(session: Session, *, channel: str, recipient: str) -> None:
    """Lock the recipient's row until commit, so parallel sends each see the codes sent.

    Without it, parallel requests would all read "fewer than the cap, none in the last
    minute" and all send.
    """
    key = f"{channel}:{recipient}"
    statement = insert(session, RecipientLock).values(key=key)
    session.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"key": key}))


def _supersede(session: Session, *, purpose: str, channel: str) -> list[int]:
    """Retire the live codes; return the attempts the unconfirmed ones had left.

    The database returns them as the retiring statement leaves them, so a wrong entry that
    races with a resend still costs the new code its attempt.
    """
    retired = session.execute(
        sa.update(ConfirmationCode)
        .where(
            ConfirmationCode.purpose == purpose,
            ConfirmationCode.channel == channel,
            ConfirmationCode.superseded.is_(False),
        )
        .values(superseded=True)
        .returning(ConfirmationCode.attempts_left, ConfirmationCode.confirmed)
    )
    return [left for left, confirmed in retired if not confirmed]


def _cooldown(
    session: Session, *, channel: str, recipient: str, now: int, policy: CodePolicy
) -> None:
    last_sent = session.scalar(
        sa.select(sa.func.max(OutboxMessage.sent_at)).where(
            OutboxMessage.channel == channel, OutboxMessage.recipient == recipient
        )
    )
    wait = (last_sent or 0) + policy.resend_seconds - now
    if wait > 0:
        raise CodeLimit("cooldown", wait, channel=channel)


def _attempts(
    session: Session,
    *,
    purpose: str,
    channel: str,
    recipient: str,
    now: int,
    policy: CodePolicy,
    resend: bool,
) -> int:
    """Retire the live code and return the new one's attempts, or raise CodeLimit."""
    unconfirmed = _supersede(session, purpose=purpose, channel=channel)
    attempts = policy.attempts
    if resend and unconfirmed:
        _cooldown(session, channel=channel, recipient=recipient, now=now, policy=policy)
        attempts = min(unconfirmed)
        if attempts <= 0:
            raise CodeLimit("exhausted", channel=channel)
    refused = sending_refused(session, channel=channel, recipient=recipient, now=now, policy=policy)
    if refused is not None:
        raise refused
    return attempts


def send_code(
    session: Session,
    *,
    purpose: str,
    channel: str,
    recipient: str,
    now: int,
    policy: CodePolicy,
    resend: bool = False,
) -> ConfirmationCode:
    """Issue a new code (the previous one stops working) and deliver it to the outbox.

    Raises:
        CodeLimit: when too many codes went to the recipient lately, or on a resend, when the
            last one was sent less than `resend_seconds` ago or its attempts are used up.
    """
    _hold(session, channel=channel, recipient=recipient)
    try:
        attempts = _attempts(
            session,
            purpose=purpose,
            channel=channel,
            recipient=recipient,
            now=now,
            policy=policy,
            resend=resend,
        )
    except CodeLimit:
        session.rollback()
        raise
    code = f"{secrets.randbelow(10**6):06d}"
    row = ConfirmationCode(
        purpose=purpose,
        channel=channel,
        recipient=recipient,
        code=code,
        expires_at=now + policy.ttl,
        attempts_left=attempts,
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


def _take_attempt(session: Session, row: ConfirmationCode) -> int | None:
    """Take one of the code's attempts in the database; None when none is left or it was retired."""
    return session.scalar(
        sa.update(ConfirmationCode)
        .where(
            ConfirmationCode.id == row.id,
            ConfirmationCode.attempts_left > 0,
            ConfirmationCode.superseded.is_(False),
        )
        .values(attempts_left=ConfirmationCode.attempts_left - 1)
        .returning(ConfirmationCode.attempts_left)
    )


def verify_code(session: Session, *, purpose: str, channel: str, entered: str, now: int) -> None:
    """Accept the entered code or raise CodeError.

    Each entry takes an attempt before it is compared, so parallel entries are never compared
    more often than the code allows.
    """
    row = _latest(session, purpose, channel)
    if row is None:
        raise CodeError("missing")
    if row.confirmed:
        return
    if now > row.expires_at:
        raise CodeError("expired")
    left = _take_attempt(session, row)
    session.commit()
    if left is None:
        raise CodeError("exhausted")
    if not secrets.compare_digest(row.code, entered.strip()):
        raise CodeError("wrong" if left else "exhausted", left, guessed=True)
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
