"""A person's notification choices: when, by e-mail or not, and per child and kind.

A parent chooses for each of their children and every kind; a trusted person for each
child shared with them and the kinds of the sections their grant opens. Nothing stored
means the defaults (``notify.DEFAULT_DELIVERY``, quiet 21:00–08:00, the digest at 19:00).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import NotificationPreference
from gateway.models import NotificationSettings
from gateway.models import User
from gateway.services import access
from gateway.services import upserts
from gateway.services.news import SECTION_OF
from gateway.services.news import NewsKind
from gateway.services.notify import DEFAULT_DELIVERY
from gateway.services.notify import DEFAULT_DIGEST
from gateway.services.notify import DEFAULT_QUIET
from gateway.services.notify import Delivery


@dataclasses.dataclass(frozen=True, slots=True)
class Choice:
    """One child and one kind of news, and how the person hears of it."""

    link: ChildLink
    kind: NewsKind
    delivery: Delivery


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the preferences page shows and saves."""

    email: bool = True
    details: bool = False
    quiet_from: dt.time = DEFAULT_QUIET[0]
    quiet_until: dt.time = DEFAULT_QUIET[1]
    digest_at: dt.time = DEFAULT_DIGEST
    time_zone: str | None = None
    choices: tuple[Choice, ...] = ()


def settings_of(session: Session, person: User, *, now: dt.datetime) -> Settings:
    """Return a person's settings, with a choice for every child and kind they may hear of."""
    stored = session.get(NotificationSettings, person.id)
    chosen = {
        (row.link_id, row.kind): Delivery(row.delivery)
        for row in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == person.id)
        )
    }
    choices = tuple(
        Choice(seen.link, kind, chosen.get((seen.link.id, kind.value), DEFAULT_DELIVERY[kind]))
        for seen in access.visible_children(session, person, now=now)
        for kind in NewsKind
        if seen.allows(SECTION_OF[kind])
    )
    if stored is None:
        return Settings(choices=choices)
    return Settings(
        email=stored.email,
        details=stored.details,
        quiet_from=stored.quiet_from,
        quiet_until=stored.quiet_until,
        digest_at=stored.digest_at,
        time_zone=stored.time_zone,
        choices=choices,
    )


def save(
    session: Session,
    person: User,
    settings: Settings,
    deliveries: Mapping[tuple[int, NewsKind], Delivery],
    *,
    allowed: Sequence[Choice],
) -> None:
    """Store a person's settings and their choices for the children and kinds ``allowed``.

    Only the pairs in ``allowed`` (what the page offered) are stored; a choice equal to
    the default is stored too, so a later change of defaults does not change it. Saving
    twice at once is safe: both writes are upserts.
    """
    values = {
        "email": settings.email,
        "details": settings.details,
        "quiet_from": settings.quiet_from,
        "quiet_until": settings.quiet_until,
        "digest_at": settings.digest_at,
        "time_zone": settings.time_zone,
    }
    session.execute(
        upserts.insert(session, NotificationSettings)
        .values(user_id=person.id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )
    rows = [
        {
            "user_id": person.id,
            "link_id": choice.link.id,
            "kind": choice.kind.value,
            "delivery": deliveries.get((choice.link.id, choice.kind), choice.delivery).value,
        }
        for choice in allowed
    ]
    if rows:
        # An upsert, not delete-and-insert: two saves at once must not trip the unique key.
        statement = upserts.insert(session, NotificationPreference).values(rows)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "link_id", "kind"],
                set_={"delivery": statement.excluded.delivery},
            )
        )
    session.flush()
