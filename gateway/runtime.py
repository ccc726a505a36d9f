"""The gateway's long-lived services and the request-scoped accessors views reach them by.

``wiring.bind_extensions`` builds one :class:`Services` per app; views, commands and tests
read it back through :func:`services` and never import the wiring themselves, so the
composition root stays the only module that knows every blueprint.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from dataclasses import field

from authlib.integrations.flask_client import FlaskOAuth2App
from flask import Flask
from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from connectors.clock import utcnow
from connectors.schema import Period
from connectors.schema import Section
from gateway.cache import Cache
from gateway.extensions import db
from gateway.lru import Lru
from gateway.models import ChildLink
from gateway.models import Queue
from gateway.services import sessions
from gateway.services.cadence import Cadence
from gateway.services.checkpoints import Signer
from gateway.services.diary import DiaryService
from gateway.services.diary import Runtime
from gateway.services.instances import ConnectorPool
from gateway.services.sync import TickSettings
from gateway.services.vault import Vault

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived collaborators that views hand to the service layer."""

    vault: Vault
    signer: Signer
    pool: ConnectorPool
    cache: Cache
    idp: FlaskOAuth2App
    diary: Runtime
    cadence: Cadence
    sync: TickSettings
    # Children's cards on the family page, rendered (see family.card_key).
    cards: Lru[Markup] = field(default_factory=lambda: Lru(1024))
    # Whether the background sync is behind for a family, by its children and a time slot.
    paused: Lru[bool] = field(default_factory=lambda: Lru(1024))
    # Family pages, rendered, by everything they are drawn from (see diary.views.family).
    pages: Lru[str] = field(default_factory=lambda: Lru(512))

    @staticmethod
    def now() -> dt.datetime:
        """Return the current time; one place, so tests, services and connectors agree."""
        return utcnow()


def clock() -> dt.datetime:
    """Read the gateway's one clock, :meth:`Services.now`, at the time of the call.

    What lives as long as the app (the connectors in the pool) reads time through here, so
    a test that pins ``Services.now`` once the app exists moves their time too.
    """
    return Services.now()


def services() -> Services:
    """Return the current app's services (views only)."""
    return current_app.extensions["diary_gateway"]  # type: ignore[no-any-return]


def diary_service() -> DiaryService:
    """Return a diary service bound to this request's database session (views only)."""
    svc = services()
    return DiaryService(db.session, pool=svc.pool, vault=svc.vault, runtime=svc.diary, now=svc.now)


def refresh_in_background(
    app: Flask, link_ids: list[int], sections: list[Section], period: Period
) -> None:
    """Refetch sections of some children in a database session of its own."""
    with app.app_context():
        links = list(db.session.scalars(select(ChildLink).where(ChildLink.id.in_(link_ids))))
        diary_service().read(links, sections, period, refresh=True)
        db.session.commit()


# The notification sender's task (gateway.jobs registers it).
SEND_NEWS = "notify.send"


def send_news_soon(queue: Queue = Queue.INTERACTIVE) -> None:
    """Ask a worker to send what a sync or a refresh just planned, instead of waiting for
    the beat's round. Best effort: when the broker cannot take it, the next round sends it."""
    try:
        current_app.extensions["celery"].send_task(SEND_NEWS, queue=queue.value, retry=False)
    except Exception as err:  # kombu raises its transports' own errors
        log.warning("the notifications were left to the next round: %s", type(err).__name__)


def session_timeouts() -> sessions.Timeouts:
    """Return the configured idle and absolute session timeouts."""
    config = current_app.config
    return sessions.Timeouts(
        idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        absolute=dt.timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
    )
