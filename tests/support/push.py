"""A Web Push service for the tests, and the browser side of a subscription.

:class:`Browser` makes what a browser's ``pushManager.subscribe()`` makes: a P-256 key pair
and a 16-byte auth secret, and it alone can read what is encrypted to them. The service
accepts a message only with a valid VAPID signature (RFC 8292) for its own origin, then
decrypts it with the browser's keys (RFC 8291, aes128gcm), which proves the gateway's
encryption. Like a real push service, while a browser is offline it holds the messages,
one per Topic (RFC 8030 §5.4), and it can be told to answer 410 or 429.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import threading
import time
import typing as t
from collections.abc import Iterator

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat
from flask import Flask
from flask import request
from joserfc import jwt
from joserfc.jwk import ECKey
from werkzeug.serving import make_server


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclasses.dataclass
class Browser:
    """One browser's subscription keys, and its endpoint at the service."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = dataclasses.field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = dataclasses.field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, t.Any]:
        """Return what ``PushSubscription.toJSON()`` gives the page."""
        point = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(point), "auth": b64(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, t.Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return t.cast(dict[str, t.Any], json.loads(plain))


@dataclasses.dataclass(frozen=True)
class Received:
    """A message a browser got: what the service worker reads, and the sender's headers."""

    browser: str
    payload: dict[str, t.Any]
    ttl: int
    topic: str | None
    urgency: str | None
    vapid_subject: str
    vapid_key: str


@dataclasses.dataclass
class PushService:
    """The running service: its browsers, what they got, and how it answers."""

    url: str = ""
    browsers: dict[str, Browser] = dataclasses.field(default_factory=dict)
    received: list[Received] = dataclasses.field(default_factory=list)
    # Browsers not online: their messages wait here, one per Topic.
    offline: set[str] = dataclasses.field(default_factory=set)
    held: dict[str, list[Received]] = dataclasses.field(default_factory=dict)
    # Browser id -> (status, Retry-After) to answer instead of accepting.
    answers: dict[str, tuple[int, int | None]] = dataclasses.field(default_factory=dict)
    refused: list[str] = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def browser(self) -> Browser:
        """Make a new browser subscribed at this service."""
        name = b64(os.urandom(12))
        browser = Browser(endpoint=f"{self.url}/push/{name}")
        self.browsers[name] = browser
        return browser

    def name_of(self, browser: Browser) -> str:
        return browser.endpoint.rsplit("/", 1)[1]

    def come_online(self, browser: Browser) -> None:
        """Hand a browser what was held for it."""
        name = self.name_of(browser)
        with self.lock:
            self.offline.discard(name)
            self.received += self.held.pop(name, [])

    def to(self, browser: Browser) -> list[Received]:
        name = self.name_of(browser)
        return [message for message in self.received if message.browser == name]

    def accept(self, name: str, body: bytes, headers: t.Mapping[str, str]) -> tuple[str, int]:
        browser = self.browsers.get(name)
        if browser is None:
            return "no such subscription", 404
        if name in self.answers:
            return "busy", self.answers[name][0]
        subject, key = self._vapid(headers.get("Authorization", ""))
        if headers.get("Content-Encoding") != "aes128gcm":
            raise ValueError("not aes128gcm")
        message = Received(
            browser=name,
            payload=browser.decrypt(body),
            ttl=int(headers["TTL"]),
            topic=headers.get("Topic"),
            urgency=headers.get("Urgency"),
            vapid_subject=subject,
            vapid_key=key,
        )
        with self.lock:
            if name in self.offline:
                kept = [
                    m for m in self.held.get(name, []) if not (m.topic and m.topic == message.topic)
                ]
                self.held[name] = [*kept, message]
            else:
                self.received.append(message)
        return "", 201

    def _vapid(self, authorization: str) -> tuple[str, str]:
        """Check RFC 8292's ``vapid t=<JWT>, k=<key>``: signed by k, for this origin."""
        scheme, _, params = authorization.partition(" ")
        if scheme != "vapid":
            raise ValueError("no VAPID authorization")
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        point = unb64(fields["k"])
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        token = jwt.decode(fields["t"], ECKey.import_key(public), algorithms=["ES256"])
        claims = token.claims
        if claims["aud"] != self.url:
            raise ValueError("VAPID audience is not this service")
        if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
            raise ValueError("VAPID expiry out of range")
        return str(claims["sub"]), fields["k"]


def _app(service: PushService) -> Flask:
    app = Flask("push_service")

    @app.post("/push/<name>")
    def push(name: str) -> tuple[str, int, dict[str, str]]:
        try:
            text, status = service.accept(name, request.get_data(), request.headers)
        except (ValueError, KeyError) as err:
            service.refused.append(str(err))
            return str(err), 400, {}
        headers = {}
        if name in service.answers and service.answers[name][1] is not None:
            headers["Retry-After"] = str(service.answers[name][1])
        return text, status, headers

    return app


@pytest.fixture
def push_service() -> Iterator[PushService]:
    """Run a push service on loopback for one test."""
    service = PushService()
    server = make_server("127.0.0.1", 0, _app(service), threaded=True)
    service.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        thread.join(timeout=5)
