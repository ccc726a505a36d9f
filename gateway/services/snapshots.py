"""Store fetched sections: one row per child, section and period, whoever writes first."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy.orm import Session

from connectors.schema import Period
from connectors.schema import Section
from gateway.models import SectionSnapshot
from gateway.services import upserts

KEY = ("link_id", "section", "period_start", "period_end")


def store(
    session: Session,
    *,
    link_id: int,
    section: Section,
    period: Period,
    payload: list[dict[str, t.Any]],
    fetched_at: dt.datetime,
) -> SectionSnapshot:
    """Insert the section's snapshot, or replace the one already there; return the row.

    Tabs that open the same never-fetched page at once all fetch and all write; the
    conflict turns every write after the first into an update of the same row. A copy of
    the row already loaded in ``session`` is refreshed, so it cannot pass for the old one.
    """
    statement = upserts.insert(session, SectionSnapshot).values(
        link_id=link_id,
        section=section.value,
        period_start=period.start,
        period_end=period.end,
        payload=payload,
        fetched_at=fetched_at,
    )
    statement = statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={"payload": statement.excluded.payload, "fetched_at": statement.excluded.fetched_at},
    )
    return session.scalars(
        statement.returning(SectionSnapshot), execution_options={"populate_existing": True}
    ).one()
