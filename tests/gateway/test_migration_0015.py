"""Migration 0015 (the transparency log) adopts the records stored before it: each gets an
``observed`` leaf, so the first audit after the upgrade finds the log and the store agree."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.database import upgrade
from gateway.models import LedgerLeaf
from gateway.models import LedgerOpening
from gateway.models import SyncedRecord
from gateway.services import ledger
from gateway.services import ledger_audit
from gateway.services.checkpoints import Signer
from gateway.services.checkpoints import new_key
from tests.gateway.services.test_records import make_link

SEEN = dt.datetime(2026, 11, 12, 12, 0, tzinfo=dt.UTC)


def test_records_stored_before_the_log_are_adopted_and_audit_clean(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0014")
    engine = sa.create_engine(url)
    link_id = make_link(engine)
    with Session(engine) as session:
        for key, value in (("g1", "4"), ("g2", "2")):
            session.add(
                SyncedRecord(
                    link_id=link_id,
                    section="grades",
                    record_key=key,
                    day=SEEN.date(),
                    content_hash="0" * 64,
                    payload={"id": key, "value": value, "date": SEEN.date().isoformat()},
                    revision=3,
                    first_seen_at=SEEN,
                    changed_at=SEEN,
                )
            )
        session.commit()
    upgrade(url)
    signer = Signer("gateway.test/diary-log", [new_key()])
    with Session(engine) as session:
        said = [json.loads(text) for text in session.scalars(sa.select(LedgerLeaf.leaf))]
        assert [(leaf["kind"], leaf["revision"], leaf["seen"]) for leaf in said] == [
            ("observed", 3, "2026-11-12T12:00:00Z")
        ] * 2
        assert session.scalar(sa.select(sa.func.count()).select_from(LedgerOpening)) == 2
        ledger.integrate(session, signer=signer, now=SEEN)
        session.commit()
        report = ledger_audit.audit(session, keys=signer.trusted())
    assert report.clean, report.findings
    assert (report.leaves, report.openings) == (2, 2)
    engine.dispose()
