"""The background jobs: the sync's tick, one child's sync, and the hourly housekeeping.

Each task is a thin shell: it opens the app's database session, hands the work to a
service, commits, and dispatches what follows. Arguments are ids and lease tokens only.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
import urllib.parse
from zoneinfo import ZoneInfo

import requests
from celery import Celery
from flask import current_app

from gateway.extensions import db
from gateway.models import Queue
from gateway.runtime import SEND_NEWS
from gateway.runtime import diary_service
from gateway.runtime import send_news_soon
from gateway.runtime import services
from gateway.runtime import session_timeouts
from gateway.services import applications
from gateway.services import broker
from gateway.services import dispatch
from gateway.services import egress
from gateway.services import health
from gateway.services import ledger
from gateway.services import notify
from gateway.services import push
from gateway.services import sessions
from gateway.services import sync
from gateway.services import telegram
from gateway.services import timestamps
from gateway.services import trust
from gateway.services.mail import SmtpServer

log = logging.getLogger(__name__)

TICK = "sync.tick"
RUN = "sync.run"
HOUSEKEEPING = "housekeeping.sweep"
CHECKPOINT = "log.checkpoint"
SEND = SEND_NEWS
RECEIVE = "telegram.receive"
# Ended sign-in sessions are kept this long (for "where am I signed in" and audits).
KEEP_ENDED_SESSIONS = dt.timedelta(days=30)
# Notifications, sent or given up, are kept this long (one per person, channel and change).
KEEP_NOTIFICATIONS = dt.timedelta(days=30)


def tick() -> int:
    """Claim the due rows and send one sync per child to its queue; return rows claimed."""
    svc = services()
    claim = sync.tick(db.session, pool=svc.pool, now=svc.now(), settings=svc.sync)
    db.session.commit()
    for queue, due_ids in claim.batches():
        _celery().send_task(RUN, args=[due_ids, claim.lease], queue=queue.value)
    return len(claim)


def sync_service() -> sync.SyncService:
    """Return a sync service on the app's database session, reading the pages' school day."""
    svc = services()
    return sync.SyncService(
        db.session,
        diary=diary_service(),
        cadence=svc.cadence,
        now=svc.now,
        zone=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]),
    )


def run(due_ids: list[int], lease: str) -> dict[str, t.Any] | None:
    """Sync one child's claimed sections; return what it did (for the worker's log)."""
    try:
        synced = sync_service().run(due_ids, lease=lease)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if synced is None:
        return None
    if synced.queue is Queue.INTERACTIVE and synced.fetched:
        # A first sync makes its backfill due at once: a tick sends it without waiting.
        _celery().send_task(TICK, queue=Queue.SCHEDULED.value)
    if synced.changes:
        send_news_soon(synced.queue)
    return {
        "link": synced.link_id,
        "fetched": [s.value for s in synced.fetched],
        "failed": {s.value: why for s, why in synced.failed.items()},
        "changes": synced.changes,
    }


def sweep() -> dict[str, int]:
    """Prune and purge what is kept only for a while; return how many rows went."""
    svc = services()
    now = svc.now()
    config = current_app.config
    swept = {
        "backend_calls": health.prune(db.session, now=now),
        "application_documents": applications.purge(
            db.session,
            now=now,
            retention=dt.timedelta(days=config["APPLICATION_RETENTION_DAYS"]),
        ),
        "sessions": sessions.sweep(
            db.session, now=now, timeouts=session_timeouts(), keep=KEEP_ENDED_SESSIONS
        ),
        "invitations": trust.clear_expired(db.session, now=now),
        "broker_messages": broker.compact(config["BROKER_URL"], now=now),
        "notifications": notify.forget_old(db.session, now=now, keep=KEEP_NOTIFICATIONS),
    }
    db.session.commit()
    log.info("housekeeping: %s", swept)
    return swept


def _celery() -> Celery:
    return t.cast(Celery, current_app.extensions["celery"])


def checkpoint() -> int | None:
    """Append what the syncs queued to the transparency log and sign; return the new size.

    Another process's sequencer may win the same run: then this one has nothing to do.
    """
    svc = services()
    try:
        signed = ledger.integrate(db.session, signer=svc.signer, now=svc.now())
        db.session.commit()
    except ledger.LedgerBusy:
        db.session.rollback()
        return None
    stamp_checkpoint()
    return None if signed is None else signed.size


def stamp_checkpoint() -> bool:
    """Have the configured timestamping authority stamp the newest checkpoint; tell if it did.

    An authority that fails is logged and asked again at the next run.
    """
    url = current_app.config.get("LOG_TSA_URL")
    if not url:
        return False
    timeout = float(current_app.config["BACKEND_TIMEOUT"])
    try:
        with requests.Session() as http:
            stamped = timestamps.stamp_latest(db.session, url=url, http=http, timeout=timeout)
        db.session.commit()
    except timestamps.TimestampFailed as err:
        db.session.rollback()
        log.warning("the log's checkpoint was not timestamped: %s", err)
        return False
    return stamped is not None


def send_notifications() -> int:
    """Send every person's due notifications, one message per person and channel; return
    how many messages went out (letters, people reached by push, Telegram messages)."""
    now = services().now()
    sent = _send_email(now) + _send_push(now) + _send_telegram(now)
    db.session.commit()
    return sent


def _claim(channel: str, now: dt.datetime) -> str:
    """Claim this round's notifications by ``channel`` and commit, so that a sender
    running beside this one passes them by."""
    claimed = notify.claim(db.session, channel=channel, now=now)
    db.session.commit()
    return claimed


def _send_email(now: dt.datetime) -> int:
    config = current_app.config
    if not config.get("SMTP_URL"):
        return 0
    mailing = dispatch.Mailing(
        server=SmtpServer.from_url(config["SMTP_URL"], timeout=float(config["BACKEND_TIMEOUT"])),
        sender=config["MAIL_FROM"],
        domain=urllib.parse.urlsplit(config["PUBLIC_URL"]).hostname or "localhost",
        public_url=config["PUBLIC_URL"],
        secret=config["SECRET_KEY"],
    )
    return dispatch.send_due(
        db.session, mailing=mailing, now=now, claimed=_claim(notify.EMAIL, now)
    )


def _send_push(now: dt.datetime) -> int:
    config = current_app.config
    if not config.get("VAPID_KEY"):
        return 0
    with requests.Session() as http:
        if not config["ALLOW_PRIVATE_BACKENDS"]:
            egress.guard(http)  # an endpoint is the browser's word: never into our network
        pusher = push.Pusher(
            vapid=push.vapid_of(config["VAPID_KEY"]),
            subject=config["VAPID_SUBJECT"],
            http=http,
            public_url=config["PUBLIC_URL"],
            ttl=int(config["PUSH_TTL_SECONDS"]),
            timeout=float(config["BACKEND_TIMEOUT"]),
        )
        return push.send_due(db.session, pusher=pusher, now=now, claimed=_claim(notify.PUSH, now))


def bot_api(http: requests.Session) -> telegram.BotApi | None:
    """Return the configured Bot API, or None when no bot is configured."""
    config = current_app.config
    if not config.get("TELEGRAM_TOKEN"):
        return None
    return telegram.BotApi(
        base_url=config["TELEGRAM_API_URL"],
        token=config["TELEGRAM_TOKEN"],
        http=http,
        timeout=float(config["BACKEND_TIMEOUT"]),
    )


def _send_telegram(now: dt.datetime) -> int:
    config = current_app.config
    with requests.Session() as http:
        api = bot_api(http)
        if api is None:
            return 0
        telegraph = telegram.Telegraph(
            api=api, public_url=config["PUBLIC_URL"], per_second=config["TELEGRAM_PER_SECOND"]
        )
        claimed = _claim(notify.TELEGRAM, now)
        return telegram.send_due(db.session, telegraph=telegraph, now=now, claimed=claimed)


def receive_telegram() -> int:
    """Bind the chats that sent the bot a valid /start token; return how many."""
    with requests.Session() as http:
        api = bot_api(http)
        if api is None:
            return 0
        try:
            bound = telegram.receive(
                db.session,
                api=api,
                preferences_url=current_app.config["PUBLIC_URL"] + "/notifications/",
                now=services().now(),
            )
        except telegram.BotError as err:
            db.session.rollback()
            log.warning("the bot's updates were not read: %s", err.status)
            return 0
    db.session.commit()
    return bound


def register(celery: Celery) -> None:
    """Register the tasks with a Celery app (each gateway app has its own)."""
    celery.task(name=TICK)(tick)
    celery.task(name=RUN)(run)
    celery.task(name=HOUSEKEEPING)(sweep)
    celery.task(name=CHECKPOINT)(checkpoint)
    celery.task(name=SEND)(send_notifications)
    celery.task(name=RECEIVE)(receive_telegram)
