"""How fast the sender tells people: letters and Web Push messages a second from one worker.

Run from the repository root: ``.venv/bin/python -m bench.notify [--people N] [--news K]``.
On a fresh SQLite database it links N parents' children (each with an e-mail address and
one browser subscribed to Web Push), stores a sync of K new marks for each, plans their
notifications with ``notify.plan`` and then sends them as the worker's ``notify.send``
does: ``dispatch.send_due`` to a local aiosmtpd server, and ``push.send_due`` (RFC 8291
encryption and a VAPID signature per message) to a local push service that answers 201.
It prints the planning and sending rates and asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from connectors.schema import Grade
from connectors.schema import Scale
from connectors.schema import Section
from gateway.database import upgrade
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import User
from gateway.services import dispatch
from gateway.services import notify
from gateway.services import push
from gateway.services import records
from gateway.services.mail import SmtpServer

NOON = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow: not quiet


class Counter:
    """An SMTP handler that only counts."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        """Count a message (aiosmtpd's hook)."""
        self.received += 1
        return "250 OK"


class PushCounter:
    """A push service that takes every message (201) and only counts them."""

    def __init__(self) -> None:
        self.received = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, object], start_response: object) -> object:
        """Count one POST (a WSGI app)."""
        Request(environ).get_data()
        with self.lock:
            self.received += 1
        return Response("", status=201)(environ, start_response)  # type: ignore[arg-type]


def _browser_keys() -> tuple[str, str]:
    """Return a browser's p256dh and auth, as ``pushManager.subscribe()`` makes them."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return _b64(point), _b64(os.urandom(16))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _subscribe(session: Session, links: list[ChildLink], push_url: str) -> None:
    for link in links:
        p256dh, auth = _browser_keys()
        subscription = push.Subscription(
            endpoint=f"{push_url}/push/{link.user_id}", p256dh=p256dh, auth=auth
        )
        push.subscribe(session, link.user_id, subscription, device="Chrome, Android", now=NOON)
    session.commit()


def _people(session: Session, count: int) -> list[ChildLink]:
    instance = ConnectorInstance(
        key="bench", region_code="63", region_name="Самара", connector="netschool", base_url="x"
    )
    session.add(instance)
    links = []
    for number in range(count):
        user = User(
            issuer="http://idp.bench",
            subject=f"p{number}",
            full_name=f"Родитель {number}",
            email=f"p{number}@example.test",
        )
        session.add(user)
        session.flush()
        link = ChildLink(
            user_id=user.id,
            instance_id=instance.id,
            external_id=f"s{number}",
            display_name="Child1",
            full_name="Ученик",
        )
        session.add(link)
        links.append(link)
    session.commit()
    return links


def _marks(count: int) -> list[Grade]:
    day = NOON.date()
    return [
        Grade(
            id=f"m{n}", subject="Алгебра", value="4", numeric=4.0, scale=Scale.FIVE_POINT, date=day
        )
        for n in range(count)
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.notify")
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--news", type=int, default=3, help="new marks per child")
    args = parser.parse_args(argv)
    handler, pushes = Counter(), PushCounter()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    push_server = make_server("127.0.0.1", 0, pushes, threaded=True)
    threading.Thread(target=push_server.serve_forever, daemon=True).start()
    push_url = f"http://127.0.0.1:{push_server.server_port}"
    try:
        with tempfile.TemporaryDirectory() as folder, requests.Session() as http:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            upgrade(url)
            engine = sa.create_engine(url)
            with Session(engine) as session:
                links = _people(session, args.people)
                _subscribe(session, links, push_url)
                started = time.perf_counter()
                planned = 0
                for link in links:
                    changes = records.apply(
                        session,
                        link_id=link.id,
                        section=Section.GRADES,
                        window=None,
                        records=_marks(args.news),
                        seen_at=NOON,
                        baseline=False,
                    )
                    planned += notify.plan(session, link, changes, now=NOON)
                session.commit()
                planning = time.perf_counter() - started
                mailing = dispatch.Mailing(
                    server=SmtpServer("127.0.0.1", port),
                    sender="Дневник <d@localhost>",
                    domain="localhost",
                    public_url="http://127.0.0.1:8000",
                    secret="bench",
                )
                started = time.perf_counter()
                sent = 0
                while batch := dispatch.send_due(session, mailing=mailing, now=NOON):
                    session.commit()
                    sent += batch
                sending = time.perf_counter() - started
                pusher = push.Pusher(
                    vapid=push.vapid_of(push.new_vapid_key()),
                    subject="mailto:bench@localhost",
                    http=http,
                    public_url="http://127.0.0.1:8000",
                    ttl=86400,
                    timeout=10,
                )
                started = time.perf_counter()
                reached = 0
                while batch := push.send_due(session, pusher=pusher, now=NOON):
                    session.commit()
                    reached += batch
                pushing = time.perf_counter() - started
            engine.dispose()
    finally:
        controller.stop()
        push_server.shutdown()
    print(f"{args.people} parents, {args.news} new marks each: {planned} notifications planned")
    print(f"  (each person by e-mail and by Web Push: {planned // 2} per channel)")
    print(f"  sync store + planning: {planning:.2f} s ({planned / planning:,.0f} notifications/s)")
    print(f"  e-mail: {sent} letters in {sending:.2f} s ({sent / sending:,.0f} letters/s,")
    print(f"  {planned / 2 / sending:,.0f} notifications/s), {handler.received} received by SMTP")
    print(
        f"  Web Push: {reached} messages in {pushing:.2f} s ({reached / pushing:,.0f} messages/s,"
    )
    print(f"  {planned / 2 / pushing:,.0f} notifications/s), {pushes.received} received")
    return 0


if __name__ == "__main__":
    sys.exit(main())
