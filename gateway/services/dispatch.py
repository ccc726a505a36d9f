"""Sending what is due: one e-mail per person for all their news due now.

Twelve marks after the holidays, or the evening's digest, are one letter. A server that
fails leaves the notifications unsent and tries again later, waiting longer each time, up
to ``notify.MAX_ATTEMPTS``. A letter is marked sent as soon as the server took it, so a failure
half-way through a batch resends nothing that went out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import Notification
from gateway.models import NotificationSettings
from gateway.models import RecordChange
from gateway.models import User
from gateway.services import letters
from gateway.services import notify
from gateway.services import upserts
from gateway.services.mail import MailFailed
from gateway.services.mail import SmtpServer

log = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "diary-gateway.unsubscribe"


class BadUnsubscribeToken(ValueError):
    """The one-click unsubscribe link was not made by this gateway."""


def unsubscribe_token(secret: str, user_id: int) -> str:
    """Return the signed token of a person's one-click unsubscribe link."""
    return str(URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps({"user": user_id}))


def unsubscribed_user(secret: str, token: str) -> int:
    """Return whose unsubscribe link a token is.

    :raise BadUnsubscribeToken: it was not signed with ``secret``.
    """
    try:
        data = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature as err:
        raise BadUnsubscribeToken("not an unsubscribe link of this gateway") from err
    return int(data["user"])


def stop_email(session: Session, user_id: int) -> bool:
    """Turn a person's notification e-mail off (the one-click unsubscribe).

    Return False when the person no longer exists (their account was deleted).
    """
    if session.get(User, user_id) is None:
        return False
    quiet_from, quiet_until = notify.DEFAULT_QUIET
    session.execute(
        upserts.insert(session, NotificationSettings)
        .values(
            user_id=user_id,
            quiet_from=quiet_from,
            quiet_until=quiet_until,
            digest_at=notify.DEFAULT_DIGEST,
            email=False,
            details=False,
        )
        .on_conflict_do_update(index_elements=["user_id"], set_={"email": False})
    )
    session.execute(
        delete(Notification).where(
            Notification.user_id == user_id,
            Notification.channel == notify.EMAIL,
            Notification.sent_at.is_(None),
        )
    )
    return True


@dataclasses.dataclass(frozen=True, slots=True)
class Mailing:
    """What sending needs beside the database: the server, the sender, the addresses."""

    server: SmtpServer
    sender: str
    domain: str
    public_url: str
    secret: str

    def links(self, user_id: int) -> letters.Links:
        """Return the addresses a person's letter links to."""
        base = self.public_url
        token = unsubscribe_token(self.secret, user_id)
        return letters.Links(
            child=lambda link_id, section: f"{base}/child/{link_id}?section={section}",
            preferences=f"{base}/notifications/",
            unsubscribe=f"{base}/notifications/unsubscribe/{token}",
        )


def send_due(
    session: Session,
    *,
    mailing: Mailing,
    now: dt.datetime,
    people: int = 200,
    claimed: str | None = None,
) -> int:
    """Send each person's due e-mail notifications as one letter; return letters sent.

    At most ``people`` letters a call, each with all of that person's due news.
    Only what ``claimed`` (:func:`notify.claim`) holds, when given.
    """
    due = notify.due(session, channel=notify.EMAIL, now=now, people=people, claimed=claimed)
    if not due:
        return 0
    persons = notify.rows_by_id(session, User, {n.user_id for n in due})
    children = notify.rows_by_id(session, ChildLink, {n.link_id for n in due})
    changes = notify.rows_by_id(session, RecordChange, {n.change_id for n in due})
    details = dict(
        session.execute(
            select(NotificationSettings.user_id, NotificationSettings.details).where(
                NotificationSettings.user_id.in_(persons)
            )
        ).all()
    )
    batches: dict[int, list[Notification]] = {}
    for notification in due:
        batches.setdefault(notification.user_id, []).append(notification)
    sent = 0
    try:
        with mailing.server.connection() as send:
            for user_id, batch in batches.items():
                person = persons[user_id]
                items = [letters.Item(n, changes[n.change_id], children[n.link_id]) for n in batch]
                send(
                    letters.letter(
                        person,
                        items,
                        details=bool(details.get(user_id, False)),
                        links=mailing.links(user_id),
                        sender=mailing.sender,
                        domain=mailing.domain,
                        now=now,
                    )
                )
                for notification in batch:
                    notification.sent_at = now
                sent += 1
    except MailFailed as err:
        log.warning("notification e-mail not sent, will retry: %s", err)
        notify.retry_later([n for n in due if n.sent_at is None], now=now)
    session.flush()
    return sent
