"""Plan who hears of a sync's news, by which channel, and when.

For each change that is news (:mod:`gateway.services.news`) of a child, the audience is the
parent and every trusted person whose active grant opens that section of that child. Each
person's preference for the child and the kind says instant, digest or off; instant news
waits out the person's quiet hours unless it is urgent (truancy), and a digest goes out at
the person's digest time. One row per person, channel and change, so planning the same
change twice tells it once; each channel's sender sends what is due to a person at once as
one message, so twelve marks after the holidays are one e-mail and one push.

A person hears by every channel they have: e-mail when their account has an address and
they did not turn it off, Web Push when one of their browsers subscribed, Telegram when
they bound a chat with the bot. Who may hear is asked again when a notification is due, so
news planned for a trusted person whose grant has ended since is dropped, never sent.

Senders may run side by side (the beat's round and one a sync asked for): each claims the
rows it is about to send (:func:`claim`) and commits first, so the other passes them by.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing as t
import uuid
from collections.abc import Mapping
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy import ScalarSelect
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from connectors.schema import Section
from gateway.models import ChildLink
from gateway.models import Notification
from gateway.models import NotificationPreference
from gateway.models import NotificationSettings
from gateway.models import PushSubscription
from gateway.models import RecordChange
from gateway.models import TelegramChat
from gateway.models import User
from gateway.services import trust
from gateway.services import upserts
from gateway.services.news import SECTION_OF
from gateway.services.news import News
from gateway.services.news import NewsKind
from gateway.services.news import news_of

EMAIL = "email"
PUSH = "push"
TELEGRAM = "telegram"
# Sends tried this often without success are given up.
MAX_ATTEMPTS = 8
# Seconds before the n-th retry: a minute, then five, then half an hour, then every two hours.
BACKOFF = (60, 300, 1800, 7200)
# How long a sender's claim keeps others off its notifications: past a round's longest
# send (200 people, paced), short enough that a dead sender's are soon tried again.
CLAIM_HOLD = dt.timedelta(minutes=5)


class Delivery(enum.StrEnum):
    """How a person hears of a kind of news."""

    INSTANT = "instant"
    DIGEST = "digest"
    OFF = "off"


# Until a person chooses: what cannot wait comes at once, the rest in the evening's digest.
DEFAULT_DELIVERY: Mapping[NewsKind, Delivery] = {
    NewsKind.MARK: Delivery.INSTANT,
    NewsKind.MARK_CHANGED: Delivery.INSTANT,
    NewsKind.MARK_REMOVED: Delivery.INSTANT,
    NewsKind.ABSENCE: Delivery.INSTANT,
    NewsKind.TIMETABLE: Delivery.INSTANT,
    NewsKind.HOMEWORK: Delivery.DIGEST,
    NewsKind.EVENT: Delivery.DIGEST,
    NewsKind.MESSAGE: Delivery.INSTANT,
}
DEFAULT_QUIET = (dt.time(21, 0), dt.time(8, 0))
DEFAULT_DIGEST = dt.time(19, 0)


@dataclasses.dataclass(frozen=True, slots=True)
class Schedule:
    """A person's quiet hours and digest time, in their zone."""

    quiet_from: dt.time
    quiet_until: dt.time
    digest_at: dt.time
    zone: ZoneInfo
    email: bool = True

    @classmethod
    def of(cls, row: NotificationSettings | None, *, fallback: ZoneInfo) -> Schedule:
        """Return a person's schedule from their settings, or the defaults."""
        if row is None:
            return cls(*DEFAULT_QUIET, DEFAULT_DIGEST, fallback)
        zone = ZoneInfo(row.time_zone) if row.time_zone else fallback
        return cls(row.quiet_from, row.quiet_until, row.digest_at, zone, row.email)

    def is_quiet(self, moment: dt.datetime) -> bool:
        """Tell whether a moment falls in the quiet hours (which may span midnight)."""
        local = moment.astimezone(self.zone).time()
        start, end = self.quiet_from, self.quiet_until
        if start == end:
            return False
        return start <= local < end if start < end else local >= start or local < end

    def due(self, news: News, delivery: Delivery, now: dt.datetime) -> dt.datetime:
        """Return when to send a piece of news."""
        if delivery is Delivery.DIGEST:
            return self._next(self.digest_at, now)
        if news.urgent or not self.is_quiet(now):
            return now
        return self._next(self.quiet_until, now)

    def _next(self, at: dt.time, now: dt.datetime) -> dt.datetime:
        """Return the next moment the local clock shows ``at``, from ``now`` on."""
        local = now.astimezone(self.zone)
        moment = dt.datetime.combine(local.date(), at, tzinfo=self.zone)
        if moment < local:
            moment = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=self.zone)
        return moment.astimezone(dt.UTC)


def audience(
    session: Session, link: ChildLink, *, now: dt.datetime
) -> dict[int, frozenset[Section] | None]:
    """Return who may hear of the child: the parent (every section) and each active grantee."""
    found: dict[int, frozenset[Section] | None] = {link.user_id: None}
    for person_id, sections in trust.grantees_of(session, link.id, now=now).items():
        if person_id != link.user_id:
            found[person_id] = sections
    return found


def plan(
    session: Session, link: ChildLink, changes: Sequence[RecordChange], *, now: dt.datetime
) -> int:
    """Plan the notifications of one sync's changes of a child; return how many were new.

    The changes must be flushed (they need their ids); the caller commits.
    """
    zone = ZoneInfo(link.instance.timezone)
    found = news_of(changes, today=now.astimezone(zone).date())
    if not found:
        return 0
    people = audience(session, link, now=now)
    chosen = _preferences(session, link.id, list(people))
    schedules = _schedules(session, list(people), fallback=zone)
    channels = _channels(session, schedules)
    rows = []
    for person_id, sections in people.items():
        for news in found:
            if sections is not None and SECTION_OF[news.kind] not in sections:
                continue
            delivery = chosen.get((person_id, news.kind), DEFAULT_DELIVERY[news.kind])
            if delivery is Delivery.OFF:
                continue
            rows += [
                {
                    "user_id": person_id,
                    "link_id": link.id,
                    "change_id": news.change.id,
                    "channel": channel,
                    "kind": news.kind.value,
                    "delivery": delivery.value,
                    "urgent": news.urgent,
                    "low": news.low,
                    "created_at": now,
                    "due_at": schedules[person_id].due(news, delivery, now),
                }
                for channel in channels.get(person_id, ())
            ]
    if not rows:
        return 0
    statement = (
        upserts.insert(session, Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["user_id", "channel", "change_id"])
        .returning(Notification.id)
    )
    return len(list(session.scalars(statement)))


def _channels(session: Session, schedules: Mapping[int, Schedule]) -> dict[int, list[str]]:
    """Return the channels each person can be told by: e-mail, Web Push, Telegram."""
    people = list(schedules)
    found: dict[int, list[str]] = {person: [] for person in people}
    for person_id, address in session.execute(
        select(User.id, User.email).where(User.id.in_(people))
    ):
        if address and schedules[person_id].email:
            found[person_id].append(EMAIL)
    for person_id in session.scalars(
        select(PushSubscription.user_id).where(PushSubscription.user_id.in_(people)).distinct()
    ):
        found[person_id].append(PUSH)
    for person_id in session.scalars(
        select(TelegramChat.user_id).where(
            TelegramChat.user_id.in_(people), TelegramChat.active.is_(True)
        )
    ):
        found[person_id].append(TELEGRAM)
    return found


def _preferences(
    session: Session, link_id: int, people: list[int]
) -> dict[tuple[int, NewsKind], Delivery]:
    rows = session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.kind,
            NotificationPreference.delivery,
        ).where(
            NotificationPreference.link_id == link_id,
            NotificationPreference.user_id.in_(people),
        )
    )
    return {(user_id, NewsKind(kind)): Delivery(delivery) for user_id, kind, delivery in rows}


def _schedules(session: Session, people: list[int], *, fallback: ZoneInfo) -> dict[int, Schedule]:
    rows = {
        row.user_id: row
        for row in session.scalars(
            select(NotificationSettings).where(NotificationSettings.user_id.in_(people))
        )
    }
    return {person: Schedule.of(rows.get(person), fallback=fallback) for person in people}


def claim(
    session: Session,
    *,
    channel: str,
    now: dt.datetime,
    people: int = 200,
    hold: dt.timedelta = CLAIM_HOLD,
) -> str:
    """Claim every notification by ``channel`` due by now of the ``people`` waiting longest,
    for one sender, for ``hold``; return the claim to pass to :func:`due`.

    The caller commits before sending, so that a sender running beside it (the beat's and
    the one a sync asked for) passes these by and nothing is sent twice.
    """
    token = uuid.uuid4().hex
    picked = select(Notification.id).where(
        *_waiting(channel, now), Notification.user_id.in_(_longest_waiting(channel, now, people))
    )
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True, of=Notification)
    session.execute(
        update(Notification)
        .where(Notification.id.in_(picked.scalar_subquery()))
        .values(claimed_by=token, claimed_until=now + hold)
        .execution_options(synchronize_session=False)
    )
    return token


def _waiting(channel: str, now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """Unsent by ``channel``, due, not given up, and claimed by no sender still at it."""
    return (
        Notification.channel == channel,
        Notification.sent_at.is_(None),
        Notification.due_at <= now,
        Notification.attempts < MAX_ATTEMPTS,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
    )


def _longest_waiting(channel: str, now: dt.datetime, people: int) -> ScalarSelect[int]:
    """The ``people`` whose news by ``channel`` has waited longest."""
    return (
        select(Notification.user_id)
        .where(*_waiting(channel, now))
        .group_by(Notification.user_id)
        .order_by(func.min(Notification.due_at), Notification.user_id)
        .limit(people)
        .scalar_subquery()
    )


def due(
    session: Session,
    *,
    channel: str,
    now: dt.datetime,
    people: int = 200,
    claimed: str | None = None,
) -> list[Notification]:
    """Return the unsent notifications by ``channel`` that ``claimed`` holds; without a
    claim, every one due by now of the ``people`` waiting longest that no sender claimed.

    Whole people, never part of one's news: what is due to a person goes out as one message.
    Those given up (``MAX_ATTEMPTS``) are left out; those whose person may no longer hear
    of that child's section (a grant ended) are deleted instead of returned.
    """
    if claimed is not None:
        chosen = select(Notification).where(
            Notification.claimed_by == claimed,
            Notification.channel == channel,
            Notification.sent_at.is_(None),
            Notification.attempts < MAX_ATTEMPTS,
        )
    else:
        chosen = select(Notification).where(
            *_waiting(channel, now),
            Notification.user_id.in_(_longest_waiting(channel, now, people)),
        )
    found = list(session.scalars(chosen.order_by(Notification.due_at, Notification.id)))
    if not found:
        return []
    listeners = {
        link_id: audience_of(session, link_id, now=now) for link_id in {n.link_id for n in found}
    }
    allowed = [n for n in found if _may_hear(listeners[n.link_id], n)]
    for notification in set(found) - set(allowed):
        session.delete(notification)
    return allowed


def audience_of(
    session: Session, link_id: int, *, now: dt.datetime
) -> dict[int, frozenset[Section] | None]:
    """Return who may hear of a child now (:func:`audience`), none when it is unlinked."""
    link = session.get(ChildLink, link_id)
    return {} if link is None else audience(session, link, now=now)


def _may_hear(
    listeners: Mapping[int, frozenset[Section] | None], notification: Notification
) -> bool:
    """Tell whether the person may still hear of this child's section: the parent always,
    a trusted person while a grant opens it."""
    if notification.user_id not in listeners:
        return False
    sections = listeners[notification.user_id]
    return sections is None or SECTION_OF[NewsKind(notification.kind)] in sections


def retry_later(unsent: Sequence[Notification], *, now: dt.datetime, at_least: int = 0) -> None:
    """Count a failed send of each notification and put the next try off, longer each time
    (and by at least ``at_least`` seconds, a service's own Retry-After)."""
    for notification in unsent:
        notification.attempts += 1
        wait = BACKOFF[min(notification.attempts, len(BACKOFF)) - 1]
        notification.due_at = now + dt.timedelta(seconds=max(wait, at_least))
        notification.claimed_by = notification.claimed_until = None


def give_up(unsent: Sequence[Notification]) -> None:
    """Stop trying notifications no attempt can deliver (no device left to take them)."""
    for notification in unsent:
        notification.attempts = MAX_ATTEMPTS


def drop_unsent(session: Session, user_id: int, *, channel: str) -> None:
    """Delete what was still to be sent to a person by a channel they no longer have."""
    session.execute(
        delete(Notification).where(
            Notification.user_id == user_id,
            Notification.channel == channel,
            Notification.sent_at.is_(None),
        )
    )


Row = t.TypeVar("Row", User, ChildLink, RecordChange)


def rows_by_id(session: Session, model: type[Row], ids: set[int]) -> dict[int, Row]:
    """Return the rows of ``model`` with these ids, by id (what a sender's messages name)."""
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def forget_old(session: Session, *, now: dt.datetime, keep: dt.timedelta) -> int:
    """Delete notifications planned longer ago than ``keep``; return how many.

    A change is never planned again after that (the sync records each change once), so
    the unique key has nothing left to guard.
    """
    result = session.execute(
        delete(Notification)
        .where(Notification.created_at < now - keep)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
