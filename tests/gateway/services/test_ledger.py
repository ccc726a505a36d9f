"""The transparency log: each state the sync stores becomes one leaf without personal
data, the sequencer appends and signs, and the proofs it serves verify offline."""

from __future__ import annotations

import base64
import datetime as dt
import json
import typing as t
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import ChildLink
from gateway.models import LedgerLeaf
from gateway.models import LedgerOpening
from gateway.models import LedgerSubject
from gateway.services import children
from gateway.services import ledger
from gateway.services import ledger_audit
from gateway.services import proofs
from gateway.services.checkpoints import Signer
from gateway.services.checkpoints import new_key
from tests.gateway.services.test_records import FIRST
from tests.gateway.services.test_records import MONDAY
from tests.gateway.services.test_records import SECOND
from tests.gateway.services.test_records import THIRD
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link
from tests.gateway.services.test_records import sync
from verifier import bundle as bundles
from verifier import checkpoint as notes
from verifier import merkle as rfc9162

ORIGIN = "gateway.test/diary-log"
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def signer() -> Signer:
    return Signer(ORIGIN, [new_key()])


def sign(session: Session, signer: Signer, at: dt.datetime = THIRD) -> notes.Checkpoint:
    signed = ledger.integrate(session, signer=signer, now=at)
    session.commit()
    assert signed is not None
    return notes.verify(signed.note, signer.trusted(), origin=ORIGIN)


def leaves_of(session: Session) -> list[dict[str, t.Any]]:
    rows = session.scalars(select(LedgerLeaf.leaf).order_by(LedgerLeaf.id))
    return [json.loads(text) for text in rows]


def test_a_baseline_and_each_change_become_leaves_without_personal_data(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    friday = MONDAY - dt.timedelta(days=3)
    sync(session, link_id, [grade("g1", "4", friday, subject="Алгебра")], baseline=True, at=FIRST)
    changed = [grade("g1", "2", friday, subject="Алгебра"), grade("g2", "5", friday)]
    sync(session, link_id, changed, at=SECOND, window=None)
    sync(session, link_id, [grade("g2", "5", friday)], at=THIRD, window=None)
    said = leaves_of(session)
    kinds = [(leaf["kind"], leaf["revision"]) for leaf in said]
    assert kinds == [("observed", 1), ("modified", 2), ("added", 1), ("removed", 3)]
    assert [leaf["seen"] for leaf in said] == [
        "2026-12-07T06:00:00Z",
        "2026-12-07T07:00:00Z",
        "2026-12-07T07:00:00Z",
        "2026-12-07T08:00:00Z",
    ]
    assert said[3]["content"] is None and all(leaf["content"] for leaf in said[:3])
    subject = session.scalars(select(LedgerSubject.pseudonym)).one()
    assert {leaf["subject"] for leaf in said} == {subject}
    text = " ".join(session.scalars(select(LedgerLeaf.leaf)))
    for personal in ("Алгебра", "g1", "g2", "Иванов", "Child1", friday.isoformat()):
        assert personal not in text
    fields = {"v", "subject", "section", "record", "revision", "kind", "seen", "content"}
    assert all(set(leaf) == fields for leaf in said)
    # Each leaf has its own salt: one record's two states share no commitment.
    assert said[0]["record"] != said[1]["record"]


def test_the_same_content_again_adds_no_leaf(session: Session, engine: sa.Engine) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1")], baseline=True, at=FIRST)
    sync(session, link_id, [grade("g1")], at=SECOND)
    assert session.scalar(select(func.count()).select_from(LedgerLeaf)) == 1


def test_children_have_different_pseudonyms(session: Session, engine: sa.Engine) -> None:
    first, second = make_link(engine, "s1"), make_link(engine, "s2")
    sync(session, first, [grade("g1")], baseline=True)
    sync(session, second, [grade("g1")], baseline=True)
    subjects = {leaf["subject"] for leaf in leaves_of(session)}
    assert len(subjects) == 2


def test_the_sequencer_appends_signs_and_every_leaf_proves_its_inclusion(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade(f"g{i}") for i in range(11)], baseline=True)
    head = sign(session, signer)
    assert head.size == 11 and ledger.waiting(session) == 0
    rows = session.execute(select(LedgerLeaf.seq, LedgerLeaf.leaf)).all()
    paths = ledger.inclusion(session, [seq for seq, _ in rows], head.size)
    for seq, text in rows:
        leaf = rfc9162.leaf_hash(text.encode())
        rfc9162.verify_inclusion(seq, head.size, leaf, paths[seq], head.root)
    assert ledger.integrate(session, signer=signer, now=THIRD) is None  # nothing new


def test_two_checkpoints_are_consistent_and_the_old_leaves_keep_their_places(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade(f"g{i}") for i in range(5)], baseline=True)
    old = sign(session, signer, SECOND)
    sync(session, link_id, [grade(f"g{i}", "3") for i in range(9)], at=THIRD)
    new = sign(session, signer, THIRD)
    assert (old.size, new.size) == (5, 14)
    proof = ledger.consistency(session, old.size, new.size)
    rfc9162.verify_consistency(old.size, new.size, old.root, new.root, proof)
    with pytest.raises(ledger.SizeOutOfRange):
        ledger.consistency(session, 5, 15)


def test_a_rotated_key_signs_the_same_tree_again(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1")], baseline=True)
    first = sign(session, signer)
    rotated = Signer(ORIGIN, [new_key(), *_keys_of(signer)])
    again = sign(session, rotated)
    assert (again.size, again.root) == (first.size, first.root)
    assert len(again.signatures) == 2
    assert ledger.integrate(session, signer=rotated, now=THIRD) is None


def _keys_of(signer: Signer) -> list[str]:
    return [
        base64.b64encode(key.private_bytes_raw()).decode()
        for key in signer._keys  # noqa: SLF001 - the test rotates the same key in
    ]


def test_a_sequencer_that_lost_the_race_rolls_back(
    engine: sa.Engine, session: Session, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1"), grade("g2")], baseline=True)
    with Session(engine) as late:
        stale = ledger.head(late)
        pending = late.execute(select(LedgerLeaf.id, LedgerLeaf.leaf_hash)).all()
        sign(session, signer)  # another process appends first
        with pytest.raises(ledger.LedgerBusy):
            ledger._append(late, stale, pending)  # noqa: SLF001
        late.rollback()
    assert ledger.head(session).size == 2
    assert session.scalar(select(func.count()).where(LedgerLeaf.seq.is_not(None))) == 2


def test_unlinking_forgets_the_salts_and_the_pseudonym_and_keeps_the_leaves(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1")], baseline=True)
    head = sign(session, signer)
    children.unlink(session, session.get(ChildLink, link_id))
    session.commit()
    assert session.scalar(select(func.count()).select_from(LedgerOpening)) == 0
    assert session.scalar(select(func.count()).select_from(LedgerSubject)) == 0
    assert session.scalar(select(func.count()).select_from(LedgerLeaf)) == 1
    report = ledger_audit.audit(session, keys=signer.trusted())
    assert report.clean and report.leaves == head.size and report.openings == 0


def _bundle(session: Session, link_id: int, **query: t.Any) -> dict[str, t.Any]:
    return proofs.bundle(
        session, link_id=link_id, query=proofs.Query(section="grades", **query), zone=MOSCOW
    )


def test_a_bundle_of_a_period_holds_every_state_and_verifies(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1", "4")], baseline=True, at=FIRST)
    sync(
        session,
        link_id,
        [grade("g1", "2"), grade("g2", "5", day=MONDAY - dt.timedelta(days=30))],
        at=SECOND,
        window=None,
    )
    sign(session, signer)
    document = _bundle(session, link_id, start=MONDAY, end=MONDAY)
    verified = bundles.verify(document, signer.trusted())
    assert [(e.record_key, e.kind, e.payload["value"]) for e in verified.entries] == [
        ("g1", "observed", "4"),
        ("g1", "modified", "2"),
    ]
    whole = bundles.verify(_bundle(session, link_id), signer.trusted())
    assert {e.record_key for e in whole.entries} == {"g1", "g2"}


def test_a_bundle_as_of_a_day_holds_what_the_diary_showed_at_its_end(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    evening = dt.datetime(2026, 12, 7, 20, 59, tzinfo=dt.UTC)  # 23:59 in Moscow
    sync(session, link_id, [grade("g1", "4"), grade("g2")], baseline=True, at=evening)
    sync(session, link_id, [grade("g1", "2")], at=evening + dt.timedelta(minutes=2))
    sign(session, signer, evening + dt.timedelta(minutes=3))
    on_monday = bundles.verify(_bundle(session, link_id, as_of=MONDAY), signer.trusted())
    assert [(e.record_key, e.payload["value"]) for e in on_monday.entries] == [
        ("g1", "4"),
        ("g2", "5"),
    ]
    on_tuesday = bundles.verify(
        _bundle(session, link_id, as_of=MONDAY + dt.timedelta(days=1)), signer.trusted()
    )
    assert [(e.record_key, e.payload["value"]) for e in on_tuesday.entries] == [("g1", "2")]


def test_a_bundle_of_one_mark_and_a_consistency_proof_from_a_saved_checkpoint(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1"), grade("g2")], baseline=True, at=FIRST)
    saved = sign(session, signer, FIRST)
    sync(session, link_id, [grade("g1", "3"), grade("g2"), grade("g3")], at=SECOND)
    sign(session, signer, SECOND)
    document = _bundle(session, link_id, record_key="g1", since=saved.size)
    verified = bundles.verify(document, signer.trusted(), saved=saved)
    assert [e.revision for e in verified.entries] == [1, 2]
    assert verified.consistent_with == (saved.size,)
    without = _bundle(session, link_id, record_key="g1")
    with pytest.raises(bundles.BundleError, match="no consistency proof"):
        bundles.verify(without, signer.trusted(), saved=saved)


def test_no_bundle_before_the_first_checkpoint(session: Session, engine: sa.Engine) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1")], baseline=True)
    with pytest.raises(proofs.NoCheckpoint):
        _bundle(session, link_id)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("payload", {"value": "5"}, "content does not match"),
        ("record_key", "g9", "record key does not match"),
        ("salt", "00" * 16, "record key does not match"),
        ("index", 1, "not in the tree"),
        ("inclusion", [], "shorter"),
    ],
)
def test_a_bundle_edited_after_download_does_not_verify(
    session: Session, engine: sa.Engine, signer: Signer, field: str, value: t.Any, reason: str
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1"), grade("g2")], baseline=True)
    sign(session, signer)
    document = _bundle(session, link_id, record_key="g1")
    document["entries"][0][field] = value
    with pytest.raises(bundles.BundleError, match=reason):
        bundles.verify(document, signer.trusted())


def test_a_bundle_signed_by_another_key_does_not_verify(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1")], baseline=True)
    sign(session, signer)
    with pytest.raises(bundles.BundleError, match="no trusted key"):
        bundles.verify(_bundle(session, link_id), Signer(ORIGIN, [new_key()]).trusted())


def test_a_backlog_larger_than_a_batch_is_appended_whole_under_one_signature(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    link_id = make_link(engine)
    sync(session, link_id, [grade(f"g{i}") for i in range(10)], baseline=True)
    signed = ledger.integrate(session, signer=signer, now=THIRD, batch=3)
    session.commit()
    assert signed is not None and signed.size == 10
    assert ledger_audit.audit(session, keys=signer.trusted()).clean
