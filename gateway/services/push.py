"""Web Push: the browsers people subscribed, and the messages the gateway pushes to them.

A browser subscribes at its push service and hands the gateway an endpoint and two keys
(:func:`read_subscription`); the gateway encrypts each message to those keys (RFC 8291,
aes128gcm) and posts it to the endpoint signed with its VAPID key (RFC 8292), through
pywebpush. The push service stores it until the browser is online, at most ``ttl``
seconds; a message's ``Topic`` (RFC 8030 §5.4) replaces an undelivered one about the same
record, so a mark changed twice overnight arrives once, as it stands. Unlike e-mail, the
content is end-to-end encrypted, so a push carries the mark itself. A push service that
answers 404 or 410 has forgotten the subscription: it is deleted.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat
from py_vapid import Vapid02
from pywebpush import WebPushException
from pywebpush import webpush
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import Notification
from gateway.models import PushSubscription
from gateway.models import RecordChange
from gateway.services import letters
from gateway.services import notify
from gateway.services import upserts
from gateway.services.news import SECTION_OF
from gateway.services.news import NewsKind

log = logging.getLogger(__name__)

# RFC 8291 messages hold at most 4096 bytes; the JSON is kept well under, lines dropped first.
MAX_PAYLOAD = 3000
MAX_LINES = 6
# RFC 8030 §5.4: a Topic is at most 32 characters of the base64url alphabet.
TOPIC_LENGTH = 32
MAX_ENDPOINT = 2048


class BadSubscription(ValueError):
    """What a browser sent is not a push subscription this gateway can use."""


@dataclasses.dataclass(frozen=True, slots=True)
class Subscription:
    """A browser's ``PushSubscription.toJSON()``, checked."""

    endpoint: str
    p256dh: str
    auth: str


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def read_subscription(data: t.Any, *, allow_http: bool) -> Subscription:
    """Check a browser's subscription: an https endpoint (http too when allowed, for a
    push service on the local network), a P-256 public key and a 16-byte auth secret.

    :raise BadSubscription: saying which part is wrong.
    """
    if not isinstance(data, Mapping):
        raise BadSubscription("not a subscription")
    endpoint, keys = data.get("endpoint"), data.get("keys")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise BadSubscription("endpoint")
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise BadSubscription("endpoint")
    if not isinstance(keys, Mapping):
        raise BadSubscription("keys")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    try:
        point = _b64decode(p256dh) if isinstance(p256dh, str) else b""
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, binascii.Error) as err:
        raise BadSubscription("keys.p256dh") from err
    try:
        secret = _b64decode(auth) if isinstance(auth, str) else b""
    except (ValueError, binascii.Error) as err:
        raise BadSubscription("keys.auth") from err
    if len(secret) != 16:
        raise BadSubscription("keys.auth")
    return Subscription(endpoint=endpoint, p256dh=_b64encode(point), auth=_b64encode(secret))


def subscribe(
    session: Session, user_id: int, subscription: Subscription, *, device: str, now: dt.datetime
) -> None:
    """Keep a browser's subscription for a person; the same endpoint again replaces it (a
    browser signed in as someone else now pushes to them)."""
    values = {
        "user_id": user_id,
        "p256dh": subscription.p256dh,
        "auth": subscription.auth,
        "device": device[:64],
    }
    # The page posts the subscription again at every visit: «since» stays the first day,
    # unless the browser changed hands.
    since = case((PushSubscription.user_id == user_id, PushSubscription.created_at), else_=now)
    session.execute(
        upserts.insert(session, PushSubscription)
        .values(endpoint=subscription.endpoint, created_at=now, **values)
        .on_conflict_do_update(index_elements=["endpoint"], set_={**values, "created_at": since})
    )


def devices_of(session: Session, user_id: int) -> list[PushSubscription]:
    """Return a person's subscribed browsers, the newest first."""
    return list(
        session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
        )
    )


def forget(
    session: Session, user_id: int, *, device_id: int | None = None, endpoint: str | None = None
) -> bool:
    """Remove one of a person's browsers (by its id, or by its endpoint); return whether
    there was one. Their last one gone, their unsent pushes go too."""
    query = delete(PushSubscription).where(PushSubscription.user_id == user_id)
    if device_id is not None:
        query = query.where(PushSubscription.id == device_id)
    elif endpoint is not None:
        query = query.where(PushSubscription.endpoint == endpoint)
    else:
        raise TypeError("forget needs a device id or an endpoint")
    removed = session.execute(query.execution_options(synchronize_session=False))
    if not devices_of(session, user_id):
        notify.drop_unsent(session, user_id, channel=notify.PUSH)
    return bool(getattr(removed, "rowcount", 0))


BROWSERS = (
    ("YaBrowser/", "Yandex Browser"),
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str) -> str:
    """Name a browser for its owner's list of devices: «Chrome, Android»; empty when the
    User-Agent names neither (the page then says «a browser» in the reader's language)."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    return ", ".join(part for part in (browser, system) if part)


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """What the service worker shows: a title, the lines, where a tap leads."""

    title: str
    lines: tuple[str, ...]
    url: str
    topic: str | None
    urgent: bool

    def payload(self) -> str:
        """Return the JSON the service worker reads, shortened to fit a push message."""
        lines = list(self.lines[:MAX_LINES])
        if len(self.lines) > MAX_LINES:
            lines.append(f"и ещё {len(self.lines) - MAX_LINES}")
        while True:
            body = {"title": self.title, "body": "\n".join(lines), "url": self.url}
            if self.topic:
                body["tag"] = self.topic
            text = json.dumps(body, ensure_ascii=False)
            if len(text.encode()) <= MAX_PAYLOAD or not lines:
                return text
            lines = [line[: len(line) // 2] + "…" for line in lines]


def topic_of(change: RecordChange) -> str:
    """Name one record for RFC 8030's Topic: its later news replaces the earlier."""
    digest = hashlib.sha256(f"{change.link_id}:{change.section}:{change.record_key}".encode())
    return _b64encode(digest.digest())[:TOPIC_LENGTH]


def message(items: Sequence[letters.Item], *, public_url: str) -> Message:
    """Compose one push of a person's due news: the news itself for one, a list for more."""
    first = items[0]
    section = SECTION_OF[NewsKind(first.notification.kind)].value
    several = len({item.link.id for item in items}) > 1
    lines = tuple(
        (f"{item.link.display_name}: " if several else "") + letters.line(item, details=True)
        for item in items
    )
    url = f"{public_url}/" if several else f"{public_url}/child/{first.link.id}?section={section}"
    return Message(
        title=letters.subject(items),
        lines=lines,
        url=url,
        topic=topic_of(first.change) if len(items) == 1 else None,
        urgent=any(item.notification.urgent for item in items),
    )


class Outcome(enum.Enum):
    """What a push service did with one message."""

    DELIVERED = "delivered"
    GONE = "gone"  # 404/410: the subscription expired or the browser unsubscribed
    LATER = "later"  # 429, 5xx, no answer: try again
    REFUSED = "refused"  # another 4xx: this message will never be taken there


@dataclasses.dataclass(frozen=True, slots=True)
class Sent:
    """One post to one push service, and how long it asked to wait (Retry-After)."""

    outcome: Outcome
    retry_after: int = 0


def new_vapid_key() -> str:
    """Return a new VAPID private key: the 32-byte P-256 scalar, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64encode(key.private_numbers().private_value.to_bytes(32, "big"))


@dataclasses.dataclass(frozen=True, slots=True)
class Pusher:
    """What pushing needs: the VAPID key and contact, an HTTP session, where links lead."""

    vapid: Vapid02
    subject: str
    http: requests.Session
    public_url: str
    ttl: int
    timeout: float

    def post(self, device: PushSubscription, message: Message) -> Sent:
        """Encrypt and post one message to one browser's push service."""
        headers = {"Urgency": "high" if message.urgent else "normal"}
        if message.topic:
            headers["Topic"] = message.topic
        try:
            webpush(
                {
                    "endpoint": device.endpoint,
                    "keys": {"p256dh": device.p256dh, "auth": device.auth},
                },
                message.payload(),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},  # pywebpush adds aud and exp to it
                ttl=self.ttl,
                headers=headers,
                timeout=self.timeout,
                requests_session=self.http,
            )
        except WebPushException as err:
            return _judge(err.response)
        except requests.RequestException as err:
            log.warning("push service unreachable, will retry: %s", type(err).__name__)
            return Sent(Outcome.LATER)
        return Sent(Outcome.DELIVERED)


def vapid_of(key: str) -> Vapid02:
    """Read a VAPID private key (base64url: the raw 32-byte scalar, or DER).

    :raise ValueError: it is not one.
    """
    try:
        return Vapid02.from_string(key)
    except Exception as err:  # py_vapid raises whatever its parser meets
        raise ValueError("not a VAPID private key (base64url P-256)") from err


def application_server_key(key: str) -> str:
    """Return the public half of a VAPID key as browsers take it (uncompressed point)."""
    public = vapid_of(key).public_key
    return _b64encode(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def _judge(response: requests.Response | None) -> Sent:
    if response is None:
        return Sent(Outcome.LATER)
    status = response.status_code
    if status in (404, 410):
        return Sent(Outcome.GONE)
    if status == 429 or status >= 500:
        wait = response.headers.get("Retry-After", "")
        return Sent(Outcome.LATER, int(wait) if wait.isdigit() else 0)
    log.warning("push service refused a message: %s", status)
    return Sent(Outcome.REFUSED)


def send_due(
    session: Session,
    *,
    pusher: Pusher,
    now: dt.datetime,
    people: int = 200,
    claimed: str | None = None,
) -> int:
    """Push each person's due news as one message to each of their browsers; return how
    many people were reached.

    A person counts as told once any browser took the message. When none did and one may
    later (a busy push service), all of it is tried again later; when none ever can (all
    gone or refused), it is given up.
    Only what ``claimed`` (:func:`notify.claim`) holds, when given.
    """
    due = notify.due(session, channel=notify.PUSH, now=now, people=people, claimed=claimed)
    if not due:
        return 0
    batches: dict[int, list[Notification]] = {}
    for notification in due:
        batches.setdefault(notification.user_id, []).append(notification)
    children = notify.rows_by_id(session, ChildLink, {n.link_id for n in due})
    changes = notify.rows_by_id(session, RecordChange, {n.change_id for n in due})
    devices: dict[int, list[PushSubscription]] = {}
    for device in session.scalars(
        select(PushSubscription).where(PushSubscription.user_id.in_(batches))
    ):
        devices.setdefault(device.user_id, []).append(device)
    reached = 0
    for user_id, batch in batches.items():
        items = [letters.Item(n, changes[n.change_id], children[n.link_id]) for n in batch]
        composed = message(items, public_url=pusher.public_url)
        results = []
        for device in devices.get(user_id, []):
            sent = pusher.post(device, composed)
            results.append(sent)
            if sent.outcome is Outcome.DELIVERED:
                device.last_sent_at = now
            elif sent.outcome is Outcome.GONE:
                session.delete(device)
        if any(r.outcome is Outcome.DELIVERED for r in results):
            for notification in batch:
                notification.sent_at = now
            reached += 1
        elif any(r.outcome is Outcome.LATER for r in results):
            wait = max(r.retry_after for r in results)
            notify.retry_later(batch, now=now, at_least=wait)
        else:
            notify.give_up(batch)
    session.flush()
    return reached
