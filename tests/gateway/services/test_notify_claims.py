"""Senders side by side: the beat's round and the one a sync asks for may run at once. Each
claims what it is about to send and commits before sending, so the other passes it by; a
sender that died leaves its claim to run out."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import Notification
from gateway.models import User
from gateway.services import dispatch
from gateway.services import notify
from gateway.services.mail import SmtpServer
from gateway.services.snapshots import aware
from tests.gateway.services.test_notify import NOON
from tests.gateway.services.test_notify import _changes
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link
from tests.support.smtp import Inbox

PEOPLE = 12


def _parents_with_news(session: Session, engine: sa.Engine, count: int) -> list[int]:
    """``count`` parents with an address, each with a new mark due at noon; their ids."""
    links = [make_link(engine, f"s{number}") for number in range(count)]
    for number, link_id in enumerate(links):
        link = session.get(ChildLink, link_id)
        assert link is not None
        session.get(User, link.user_id).email = f"p{number}@example.ru"  # type: ignore[union-attr]
        notify.plan(session, link, _changes(session, link, [grade("g1", "2")], at=NOON), now=NOON)
    session.commit()
    return [link.user_id for link in session.scalars(select(ChildLink))]


def test_a_claim_keeps_another_sender_off_until_it_runs_out(
    session: Session, engine: sa.Engine
) -> None:
    [parent] = _parents_with_news(session, engine, 1)
    first = notify.claim(session, channel=notify.EMAIL, now=NOON)
    session.commit()
    second = notify.claim(session, channel=notify.EMAIL, now=NOON)
    session.commit()
    assert [parent] == [
        n.user_id for n in notify.due(session, channel=notify.EMAIL, now=NOON, claimed=first)
    ]
    assert notify.due(session, channel=notify.EMAIL, now=NOON, claimed=second) == []
    assert notify.due(session, channel=notify.EMAIL, now=NOON) == []  # unclaimed: none
    # The first sender died: once its claim has run out, the next round takes the news.
    later = NOON + notify.CLAIM_HOLD
    third = notify.claim(session, channel=notify.EMAIL, now=later)
    assert [parent] == [
        n.user_id for n in notify.due(session, channel=notify.EMAIL, now=later, claimed=third)
    ]


def test_a_claim_takes_one_channel_and_whole_people(session: Session, engine: sa.Engine) -> None:
    parents = _parents_with_news(session, engine, 3)
    claimed = notify.claim(session, channel=notify.EMAIL, now=NOON, people=2)
    held = notify.due(session, channel=notify.EMAIL, now=NOON, claimed=claimed)
    assert sorted(n.user_id for n in held) == parents[:2]
    assert notify.due(session, channel=notify.PUSH, now=NOON, claimed=claimed) == []
    rest = notify.claim(session, channel=notify.EMAIL, now=NOON)
    held = notify.due(session, channel=notify.EMAIL, now=NOON, claimed=rest)
    assert [n.user_id for n in held] == parents[2:]


def test_a_failed_send_lets_its_claim_go_so_the_backoff_alone_decides(
    session: Session, engine: sa.Engine
) -> None:
    _parents_with_news(session, engine, 1)
    claimed = notify.claim(session, channel=notify.EMAIL, now=NOON)
    held = notify.due(session, channel=notify.EMAIL, now=NOON, claimed=claimed)
    notify.retry_later(held, now=NOON)
    session.commit()
    retry = NOON + dt.timedelta(seconds=notify.BACKOFF[0])
    assert notify.CLAIM_HOLD > dt.timedelta(seconds=notify.BACKOFF[0])  # else nothing to see
    [row] = session.scalars(select(Notification)).all()
    assert (row.claimed_by, aware(row.due_at)) == (None, retry)
    again = notify.claim(session, channel=notify.EMAIL, now=retry)
    assert len(notify.due(session, channel=notify.EMAIL, now=retry, claimed=again)) == 1


def _sender(engine: sa.Engine, smtp: Inbox, start: threading.Barrier, sent: list[int]) -> None:
    mailing = dispatch.Mailing(
        server=SmtpServer.from_url(smtp.url, timeout=10),
        sender="Дневник <noreply@dnevnik.example.ru>",
        domain="dnevnik.example.ru",
        public_url="https://dnevnik.example.ru",
        secret="test-secret",
    )
    with Session(engine) as session:
        start.wait()
        claimed = notify.claim(session, channel=notify.EMAIL, now=NOON)
        session.commit()
        sent.append(dispatch.send_due(session, mailing=mailing, now=NOON, claimed=claimed))
        session.commit()


def test_two_senders_at_once_send_each_letter_once(
    session: Session, engine: sa.Engine, smtp: Inbox
) -> None:
    _parents_with_news(session, engine, PEOPLE)
    session.close()
    start, sent = threading.Barrier(2), list[int]()
    senders = [threading.Thread(target=_sender, args=(engine, smtp, start, sent)) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=60)
    assert sum(sent) == PEOPLE and len(sent) == 2
    told = sorted(str(letter["To"]).split("<")[-1].rstrip(">") for letter in smtp.messages)
    assert told == sorted(f"p{number}@example.ru" for number in range(PEOPLE))
