"""The stored snapshots of children's sections: found by period, decoded once, and stored
with one row per child, section and period, whoever writes first."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import codec
from connectors.schema import Period
from connectors.schema import Section
from gateway.lru import Lru
from gateway.models import ChildLink
from gateway.models import SectionSnapshot
from gateway.services import upserts

KEY = ("link_id", "section", "period_start", "period_end")


def aware(moment: dt.datetime) -> dt.datetime:
    """Return a stored time as UTC (SQLite gives it back without a zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class DecodedRecords:
    """Snapshots already turned back into records, by snapshot and fetch time.

    Decoding is most of a warm page's work; records are frozen, so one decoded copy can
    serve every request until the snapshot is replaced (its fetch time changes).
    """

    def __init__(self, capacity: int = 1024) -> None:
        """Keep at most ``capacity`` decoded snapshots, least recently used out first."""
        self._decoded: Lru[list[t.Any]] = Lru(capacity)

    def of(self, section: Section, snapshot: SectionSnapshot) -> list[t.Any]:
        """Return the snapshot's records, decoding them only the first time."""
        key = (snapshot.id, aware(snapshot.fetched_at).isoformat())
        return self._decoded.get_or_make(key, lambda: codec.decode(section, snapshot.payload))


def snapshots_for(
    session: Session, links: Sequence[ChildLink], period_of: Mapping[Section, Period]
) -> dict[tuple[int, Section], SectionSnapshot]:
    """Return the snapshot of each child x section for that section's period."""
    if not links:
        return {}
    periods = set(period_of.values())
    rows = session.scalars(
        select(SectionSnapshot).where(
            SectionSnapshot.link_id.in_([link.id for link in links]),
            or_(
                *(
                    and_(
                        SectionSnapshot.period_start == p.start,
                        SectionSnapshot.period_end == p.end,
                    )
                    for p in periods
                )
            ),
        )
    )
    found: dict[tuple[int, Section], SectionSnapshot] = {}
    for row in rows:
        section = Section(row.section)
        wanted = period_of.get(section)
        if wanted and (row.period_start, row.period_end) == (wanted.start, wanted.end):
            found[(row.link_id, section)] = row
    return found


def store(
    session: Session,
    *,
    link_id: int,
    section: Section,
    period: Period,
    payload: list[dict[str, t.Any]],
    fetched_at: dt.datetime,
) -> SectionSnapshot | None:
    """Insert the section's snapshot, or replace an older one; return the row written.

    Tabs that open the same never-fetched page at once all fetch and all write; the
    conflict turns every write after the first into an update of the same row, unless the
    row holds data fetched later (then nothing is written and None returned). A copy of
    the row already loaded in ``session`` is refreshed, so it cannot pass for the old one.
    """
    statement = upserts.insert(session, SectionSnapshot).values(
        link_id=link_id,
        section=section.value,
        period_start=period.start,
        period_end=period.end,
        payload=payload,
        fetched_at=fetched_at,
        failed_at=None,
    )
    statement = statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={
            "payload": statement.excluded.payload,
            "fetched_at": statement.excluded.fetched_at,
            "failed_at": None,
        },
        where=SectionSnapshot.fetched_at <= statement.excluded.fetched_at,
    )
    return session.scalars(
        statement.returning(SectionSnapshot), execution_options={"populate_existing": True}
    ).one_or_none()
