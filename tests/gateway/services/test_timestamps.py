"""RFC 3161: a configured timestamping authority stamps each checkpoint, the proof bundle
carries the stamp, and the verifier checks it against the authority's root."""

from __future__ import annotations

import datetime as dt
import typing as t
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from cryptography import x509
from sqlalchemy.orm import Session

from gateway.services import ledger
from gateway.services import proofs
from gateway.services import timestamps
from gateway.services.checkpoints import Signer
from gateway.services.checkpoints import new_key
from tests.gateway.services.test_records import SECOND
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link
from tests.gateway.services.test_records import sync
from tests.support.tsa import Authority
from tests.support.tsa import make_certificates
from verifier import bundle as bundles

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def signer() -> Signer:
    return Signer("gateway.test/diary-log", [new_key()])


def _signed(session: Session, engine: sa.Engine, signer: Signer, at: dt.datetime) -> int:
    link_id = make_link(engine)
    sync(session, link_id, [grade("g1"), grade("g2")], baseline=True, at=at)
    ledger.integrate(session, signer=signer, now=at)
    session.commit()
    return link_id


def _stamp(session: Session, tsa: Authority) -> t.Any:
    with requests.Session() as http:
        stamped = timestamps.stamp_latest(session, url=tsa.url, http=http, timeout=5)
    session.commit()
    return stamped


def _bundle(session: Session, link_id: int) -> dict[str, t.Any]:
    query = proofs.Query(section="grades")
    return proofs.bundle(session, link_id=link_id, query=query, zone=MOSCOW)


def test_the_checkpoint_is_stamped_once_and_the_bundle_proves_when(
    session: Session, engine: sa.Engine, signer: Signer, tsa: Authority
) -> None:
    link_id = _signed(session, engine, signer, SECOND)
    before = dt.datetime.now(dt.UTC)
    assert _stamp(session, tsa) is not None
    assert _stamp(session, tsa) is None and tsa.answered == 1  # stamped already
    document = _bundle(session, link_id)
    assert document["timestamp"]
    verified = bundles.verify(document, signer.trusted(), tsa_roots=[tsa.root()])
    assert verified.timestamped_at is not None
    assert before - dt.timedelta(seconds=2) <= verified.timestamped_at <= dt.datetime.now(dt.UTC)
    unchecked = bundles.verify(document, signer.trusted())
    assert unchecked.carries_timestamp and unchecked.timestamped_at is None


def test_a_stamp_of_another_checkpoint_or_from_another_root_does_not_verify(
    session: Session, engine: sa.Engine, signer: Signer, tsa: Authority
) -> None:
    link_id = _signed(session, engine, signer, SECOND)
    _stamp(session, tsa)
    first = _bundle(session, link_id)
    sync(session, link_id, [grade("g1", "3"), grade("g2")], at=SECOND + dt.timedelta(hours=1))
    ledger.integrate(session, signer=signer, now=SECOND + dt.timedelta(hours=1))
    session.commit()
    second = _bundle(session, link_id)
    assert second["timestamp"] is None
    with pytest.raises(bundles.BundleError, match="carries no RFC 3161 timestamp"):
        bundles.verify(second, signer.trusted(), tsa_roots=[tsa.root()])
    second["timestamp"] = first["timestamp"]  # the older checkpoint's stamp
    with pytest.raises(bundles.BundleError, match="timestamp does not verify"):
        bundles.verify(second, signer.trusted(), tsa_roots=[tsa.root()])
    stranger = _other_root(tsa)
    with pytest.raises(bundles.BundleError, match="timestamp does not verify"):
        bundles.verify(first, signer.trusted(), tsa_roots=[stranger])


def _other_root(tsa: Authority) -> x509.Certificate:
    folder = tsa.folder / "other"
    folder.mkdir()
    make_certificates(folder)
    return x509.load_pem_x509_certificate((folder / "root.pem").read_bytes())


@pytest.mark.parametrize(
    ("switch", "reason"),
    [("fail", "answered 503"), ("stamp_other", "stamped something else")],
)
def test_an_authority_that_fails_or_stamps_something_else_leaves_it_for_the_next_run(
    session: Session, engine: sa.Engine, signer: Signer, tsa: Authority, switch: str, reason: str
) -> None:
    _signed(session, engine, signer, SECOND)
    setattr(tsa, switch, True)
    with pytest.raises(timestamps.TimestampFailed, match=reason):
        _stamp(session, tsa)
    session.rollback()
    assert ledger.checkpoint(session).timestamp is None  # type: ignore[union-attr]
    setattr(tsa, switch, False)
    assert _stamp(session, tsa) is not None


def test_an_authority_that_does_not_answer_is_a_failure_not_a_crash(
    session: Session, engine: sa.Engine, signer: Signer
) -> None:
    _signed(session, engine, signer, SECOND)
    with requests.Session() as http, pytest.raises(timestamps.TimestampFailed, match="did not"):
        timestamps.stamp_latest(session, url="http://127.0.0.1:9/tsp", http=http, timeout=2)
