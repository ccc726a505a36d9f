"""Messages the gateway sends by SMS or e-mail, queued in the database.

A message may carry secrets, such as an invitation's single-use link: the stored body
names each as ``{name}`` and the values are sealed by the vault. Delivery hands the full
text over once and drops the seal, so a delivered row holds no usable link.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import OutboxMessage
from gateway.services.vault import Vault

GONE = "[ссылка доставлена и больше не хранится]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A message as its transport sends it: the full text, secrets filled in."""

    channel: str
    recipient: str
    subject: str
    text: str
    secrets: Mapping[str, str]


def queue(
    session: Session,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    now: dt.datetime,
    payload: dict[str, t.Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    vault: Vault | None = None,
) -> OutboxMessage:
    """Queue one message for delivery; ``secrets`` are sealed with ``vault``, never stored.

    :raise ValueError: for secrets without a vault to seal them.
    """
    if secrets and vault is None:
        raise ValueError("secrets need a vault to be sealed with")
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        payload=payload or {},
        sealed=vault.encrypt(dict(secrets)) if secrets and vault else None,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def _filled(body: str, secrets: Mapping[str, str]) -> str:
    for name, value in secrets.items():
        body = body.replace("{" + name + "}", value)
    return body


def deliver(
    session: Session, message: OutboxMessage, *, vault: Vault, now: dt.datetime
) -> Delivery:
    """Hand a message to its transport once: its full text; then the row forgets the secrets.

    Delivering again gives the text without them (the caller commits).
    """
    secrets = vault.decrypt(message.sealed) if message.sealed is not None else {}
    message.sealed = None
    message.sent_at = message.sent_at or now
    return Delivery(
        channel=message.channel,
        recipient=message.recipient,
        subject=message.subject,
        text=_filled(message.body, secrets) if secrets else shown(message),
        secrets=secrets,
    )


def shown(message: OutboxMessage) -> str:
    """Return a delivered message's text, each former secret replaced by a note."""
    return _filled(message.body, {"link": GONE})


def latest(session: Session, *, limit: int = 50) -> list[OutboxMessage]:
    """Return the newest queued messages (the development outbox page)."""
    return list(
        session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    )
