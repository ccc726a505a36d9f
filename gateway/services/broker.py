"""The embedded broker's upkeep: kombu's SQLAlchemy transport keeps every delivered message.

Delivered messages stay in its table, marked invisible; with a tick every few seconds that is
thousands of rows a day. The hourly housekeeping deletes those delivered a day ago. Redis
(and any other broker) deletes delivered messages itself, so nothing is done for them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

PREFIXES = ("sqla+", "sqlalchemy+")
KEEP_DELIVERED = dt.timedelta(days=1)


def database_of(broker_url: str) -> str | None:
    """Return the database URL of a SQLAlchemy-transport broker; None for any other."""
    for prefix in PREFIXES:
        if broker_url.startswith(prefix):
            return broker_url[len(prefix) :]
    return None


def compact(broker_url: str, *, now: dt.datetime) -> int:
    """Delete messages delivered ``KEEP_DELIVERED`` before ``now``; return how many.

    kombu stamps a message with the worker's local time, without a zone, when it takes it.
    """
    database = database_of(broker_url)
    if database is None:
        return 0
    engine = sa.create_engine(database)
    try:
        with engine.begin() as connection:
            if not sa.inspect(connection).has_table("kombu_message"):
                return 0  # no worker has run yet
            cutoff = (now - KEEP_DELIVERED).astimezone().replace(tzinfo=None)
            deleted = connection.execute(
                sa.text("DELETE FROM kombu_message WHERE visible = :no AND timestamp < :cutoff"),
                {"no": False, "cutoff": cutoff},
            )
            return int(deleted.rowcount or 0)
    finally:
        engine.dispose()
