"""The gateway's audit of its own log: a record, a leaf or a subtree edited straight in the
database is found, and the verifier refuses a bundle of the edited record too."""

from __future__ import annotations

import datetime as dt
import typing as t
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.models import LedgerLeaf
from gateway.models import LedgerNode
from gateway.models import RecordChange
from gateway.models import SyncedRecord
from gateway.services import ledger
from gateway.services import ledger_audit
from gateway.services import proofs
from gateway.services.checkpoints import Signer
from gateway.services.checkpoints import new_key
from tests.gateway.services.test_records import FIRST
from tests.gateway.services.test_records import SECOND
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link
from tests.gateway.services.test_records import sync
from verifier import bundle as bundles

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def signer() -> Signer:
    return Signer("gateway.test/diary-log", [new_key()])


@pytest.fixture
def link_id(session: Session, engine: sa.Engine, signer: Signer) -> int:
    """A child with marks seen at a baseline and changed once, all signed."""
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1", "4"), grade("g2", "5")], baseline=True, at=FIRST)
    sync(session, link_id, [grade("g1", "2"), grade("g2", "5"), grade("g3", "3")], at=SECOND)
    ledger.integrate(session, signer=signer, now=SECOND + dt.timedelta(minutes=1))
    session.commit()
    return link_id


def _findings(session: Session, signer: Signer) -> list[str]:
    report = ledger_audit.audit(session, keys=signer.trusted())
    return [finding.what for finding in report.findings]


def _bundle(session: Session, link_id: int, key: str) -> dict[str, t.Any]:
    query = proofs.Query(section="grades", record_key=key)
    return proofs.bundle(session, link_id=link_id, query=query, zone=MOSCOW)


def test_an_untouched_log_is_intact(session: Session, signer: Signer, link_id: int) -> None:
    report = ledger_audit.audit(session, keys=signer.trusted())
    assert report.clean, report.findings
    assert (report.leaves, report.checkpoints, report.openings) == (4, 1, 4)


def test_a_mark_edited_in_the_database_is_caught_by_the_audit_and_the_verifier(
    session: Session, signer: Signer, link_id: int
) -> None:
    edited = grade("g1", "5")
    stored = session.scalars(select(SyncedRecord).where(SyncedRecord.record_key == "g1")).one()
    session.execute(
        update(SyncedRecord)
        .where(SyncedRecord.id == stored.id)
        .values(payload={**stored.payload, "value": edited.value, "numeric": edited.numeric})
    )
    session.commit()
    assert _findings(session, signer) == ["the stored record is not what the log says was seen"]
    with pytest.raises(bundles.BundleError, match="content does not match"):
        bundles.verify(_bundle(session, link_id, "g1"), signer.trusted())


def test_a_change_rewritten_in_the_database_is_caught(
    session: Session, signer: Signer, link_id: int
) -> None:
    session.execute(
        update(RecordChange)
        .where(RecordChange.record_key == "g1")
        .values(before={**_payload_of(session, "g1"), "value": "5"})
    )
    session.commit()
    assert _findings(session, signer) == ["the stored record is not what the log says was seen"]
    with pytest.raises(bundles.BundleError, match="content does not match"):
        bundles.verify(_bundle(session, link_id, "g1"), signer.trusted())


def _payload_of(session: Session, key: str) -> dict[str, t.Any]:
    return session.scalars(select(SyncedRecord.payload).where(SyncedRecord.record_key == key)).one()


def test_a_leaf_rewritten_in_the_database_breaks_the_signed_root(
    session: Session, signer: Signer, link_id: int
) -> None:
    leaf = session.scalars(select(LedgerLeaf).where(LedgerLeaf.seq == 0)).one()
    session.execute(
        update(LedgerLeaf)
        .where(LedgerLeaf.id == leaf.id)
        .values(leaf=leaf.leaf.replace('"observed"', '"added"'))
    )
    session.commit()
    found = _findings(session, signer)
    assert "the leaf does not hash to its stored hash" in found
    assert "the leaves no longer make the signed root" in found


def test_a_record_slipped_into_the_store_without_a_sync_is_caught(
    session: Session, signer: Signer, link_id: int
) -> None:
    template = session.scalars(select(SyncedRecord).where(SyncedRecord.record_key == "g2")).one()
    session.add(
        SyncedRecord(
            link_id=link_id,
            section="grades",
            record_key="g9",
            day=template.day,
            content_hash="0" * 64,
            payload={**template.payload, "id": "g9", "value": "2"},
            revision=1,
            first_seen_at=FIRST,
            changed_at=FIRST,
        )
    )
    session.commit()
    assert _findings(session, signer) == ["a stored record the log never saw"]


def test_a_subtree_rewritten_in_the_database_is_caught(
    session: Session, signer: Signer, link_id: int
) -> None:
    session.execute(update(LedgerNode).where(LedgerNode.level == 1).values(hash="00" * 32))
    session.commit()
    assert set(_findings(session, signer)) == {"the node is not the hash of its leaves"}


def test_a_checkpoint_signed_by_an_unknown_key_is_caught(session: Session, link_id: int) -> None:
    stranger = Signer("gateway.test/diary-log", [new_key()])
    assert _findings(session, stranger) == [
        "the signature does not verify (no trusted key signed the checkpoint)"
    ]
