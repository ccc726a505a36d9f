"""Workers applying the same fetch at once: one row per record, each change recorded once.

Each worker runs in its own thread, session and connection, and its first write to the
store waits until every worker has reached its own, so all of them have read the same
starting state: none can see another's result before deciding what to write.
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.schema import Section
from gateway.models import ChangeKind
from gateway.models import RecordChange
from gateway.models import SyncedRecord
from gateway.services import records
from tests.gateway.services.test_records import FIRST
from tests.gateway.services.test_records import WEEK
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link

WORKERS = 4
WRITES = ("INSERT INTO SYNCED_RECORDS ", "UPDATE SYNCED_RECORDS ", "DELETE FROM SYNCED_RECORDS ")


def race(engine: sa.Engine, work: t.Callable[[Session, int], object]) -> list[BaseException]:
    """Run ``work(session, n)`` in WORKERS threads at once, each committing; return errors."""
    arrived = threading.Barrier(WORKERS)
    waited = threading.local()
    errors: list[BaseException] = []

    def hold(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if not getattr(waited, "done", False) and statement.lstrip().upper().startswith(WRITES):
            waited.done = True
            arrived.wait(timeout=10)

    def worker(number: int) -> None:
        with Session(engine) as session:
            try:
                work(session, number)
                session.commit()
            except Exception as err:
                errors.append(err)
                session.rollback()

    event.listen(engine, "before_cursor_execute", hold)
    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", hold)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return errors


def apply_at(link_id: int, found: list[object]) -> t.Callable[[Session, int], object]:
    """Return a worker applying ``found`` to the child, each worker at its own time."""

    def work(session: Session, number: int) -> object:
        return records.apply(
            session,
            link_id=link_id,
            section=Section.GRADES,
            window=WEEK,
            records=found,
            seen_at=FIRST + dt.timedelta(minutes=number + 1),
            baseline=False,
        )

    return work


def changes(engine: sa.Engine) -> list[tuple[str, ChangeKind]]:
    """Return every recorded change as (key, kind), in key order."""
    with Session(engine) as session:
        rows = session.execute(
            select(RecordChange.record_key, RecordChange.kind).order_by(RecordChange.record_key)
        )
        return [(key, kind) for key, kind in rows]


def stored(engine: sa.Engine) -> dict[str, str]:
    """Return every stored grade's value, by key."""
    with Session(engine) as session:
        rows = session.scalars(select(SyncedRecord))
        return {row.record_key: row.payload["value"] for row in rows}


ADDED, MODIFIED, REMOVED = ChangeKind.ADDED, ChangeKind.MODIFIED, ChangeKind.REMOVED


# Each scenario's first write is the swap raced: every worker has read the same state.
@pytest.mark.parametrize(
    ("before", "fetch", "after", "recorded"),
    [
        pytest.param(
            [],
            [grade(f"g{n}", "4") for n in range(5)],
            {f"g{n}": "4" for n in range(5)},
            [(f"g{n}", ADDED) for n in range(5)],
            id="added",
        ),
        pytest.param(
            [grade("g1", "5"), grade("g2", "4")],
            [grade("g1", "2"), grade("g2", "3")],
            {"g1": "2", "g2": "3"},
            [("g1", MODIFIED), ("g2", MODIFIED)],
            id="modified",
        ),
        pytest.param(
            [grade("g1", "5"), grade("g2", "4")],
            [],
            {},
            [("g1", REMOVED), ("g2", REMOVED)],
            id="removed",
        ),
        pytest.param(
            [grade("g1", "5"), grade("g2", "4"), grade("g3", "3")],
            [grade("g1", "2"), grade("g3", "3"), grade("g4", "5")],
            {"g1": "2", "g3": "3", "g4": "5"},
            [("g1", MODIFIED), ("g2", REMOVED), ("g4", ADDED)],
            id="mixed",
        ),
    ],
)
def test_workers_applying_the_same_fetch_store_each_record_and_change_once(
    engine: sa.Engine,
    before: list[object],
    fetch: list[object],
    after: dict[str, str],
    recorded: list[tuple[str, ChangeKind]],
) -> None:
    link_id = make_link(engine)
    with Session(engine) as session:
        records.apply(
            session,
            link_id=link_id,
            section=Section.GRADES,
            window=WEEK,
            records=before,
            seen_at=FIRST,
            baseline=True,
        )
        session.commit()
    assert race(engine, apply_at(link_id, fetch)) == []
    assert stored(engine) == after
    assert changes(engine) == recorded


def test_workers_with_different_fetches_each_record_their_change_in_one_chain(
    engine: sa.Engine,
) -> None:
    link_id = make_link(engine)
    with Session(engine) as session:
        records.apply(
            session,
            link_id=link_id,
            section=Section.GRADES,
            window=WEEK,
            records=[grade("g1", "1")],
            seen_at=FIRST,
            baseline=True,
        )
        session.commit()

    def work(session: Session, number: int) -> object:
        # The mark was corrected between the workers' fetches: each brings its own value.
        return records.apply(
            session,
            link_id=link_id,
            section=Section.GRADES,
            window=WEEK,
            records=[grade("g1", str(number + 2))],
            seen_at=FIRST + dt.timedelta(minutes=number + 1),
            baseline=False,
        )

    assert race(engine, work) == []
    with Session(engine) as session:
        chain = session.scalars(select(RecordChange).order_by(RecordChange.revision)).all()
        final = session.scalars(select(SyncedRecord)).one()
    assert [c.revision for c in chain] == [2, 3, 4, 5]
    assert {c.kind for c in chain} == {MODIFIED}
    # Every change starts where the one before it ended, and the last is what is stored.
    values = [(c.before or {})["value"] for c in chain] + [(chain[-1].after or {})["value"]]
    assert values[0] == "1"
    assert [(c.after or {})["value"] for c in chain] == values[1:]
    assert sorted(values[1:]) == ["2", "3", "4", "5"]
    assert (final.payload["value"], final.revision) == (values[-1], 5)
