"""How fast the sender mails notifications: letters a second from one worker.

Run from the repository root: ``.venv/bin/python -m bench.notify [--people N] [--news K]``.
On a fresh SQLite database it links N parents' children (each with an e-mail address),
stores a sync of K new marks for each, plans their notifications with ``notify.plan`` and
then sends them with ``dispatch.send_due`` to a local aiosmtpd server, as the worker's
``notify.send`` does. It prints the planning and sending rates and asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from connectors.schema import Grade
from connectors.schema import Scale
from connectors.schema import Section
from gateway.database import upgrade
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import User
from gateway.services import dispatch
from gateway.services import notify
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
    handler = Counter()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            upgrade(url)
            engine = sa.create_engine(url)
            with Session(engine) as session:
                links = _people(session, args.people)
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
            engine.dispose()
    finally:
        controller.stop()
    print(f"{args.people} parents, {args.news} new marks each: {planned} notifications planned")
    print(f"  sync store + planning: {planning:.2f} s ({planned / planning:,.0f} notifications/s)")
    print(f"  sending: {sent} letters in {sending:.2f} s ({sent / sending:,.0f} letters/s,")
    print(f"  {planned / sending:,.0f} notifications/s), {handler.received} received by SMTP")
    return 0


if __name__ == "__main__":
    sys.exit(main())
