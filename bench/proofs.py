"""How big a year of one child's marks is as a proof bundle, and how fast it verifies.

Run from the repository root: ``.venv/bin/python -m bench.proofs [--others N]``. On a fresh
SQLite database it keeps a school year of one child's marks the way the sync does (a
baseline in September, then a sync each school day that adds the day's marks and now and
then corrects an older one), beside ``N`` leaves of other children, so that the tree is as
deep as a region's. It then signs a checkpoint and prints: the sequencer's speed, the
bundle of the whole year (entries, size, gzipped size, time to build) and the verifier's
time, and the audit's time over the whole log. It asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.schema import Grade
from connectors.schema import Period
from connectors.schema import Scale
from connectors.schema import Section
from gateway.database import upgrade
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import LedgerLeaf
from gateway.models import User
from gateway.services import ledger
from gateway.services import ledger_audit
from gateway.services import proofs
from gateway.services import records
from gateway.services.checkpoints import Signer
from gateway.services.checkpoints import new_key
from verifier import bundle as bundles
from verifier import merkle as rfc9162

MOSCOW = ZoneInfo("Europe/Moscow")
SUBJECTS = ("Алгебра", "Геометрия", "Русский язык", "Литература", "Физика", "История")
YEAR_START = dt.date(2025, 9, 1)
YEAR_END = dt.date(2026, 5, 29)


def _link(session: Session) -> int:
    instance = ConnectorInstance(
        key="bench", region_code="77", region_name="Москва", connector="mesh", base_url="x"
    )
    user = User(issuer="http://idp.bench", subject="parent", full_name="Иванова Мария")
    session.add_all([instance, user])
    session.flush()
    link = ChildLink(
        user_id=user.id,
        instance_id=instance.id,
        external_id="s1",
        display_name="Child1",
        full_name="Иванов Иван",
    )
    session.add(link)
    session.commit()
    return link.id


def _school_days() -> list[dt.date]:
    days, day = [], YEAR_START
    while day <= YEAR_END:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _year_of_marks(session: Session, link_id: int, rng: random.Random) -> int:
    """Sync a school year day by day; return the states stored."""
    marks: dict[str, Grade] = {}
    states = 0
    for number, day in enumerate(_school_days()):
        for lesson in range(rng.randint(2, 5)):
            key = f"{day.isoformat()}-{lesson}"
            value = rng.choice("2345")
            marks[key] = Grade(
                id=key,
                subject=rng.choice(SUBJECTS),
                value=value,
                numeric=float(value),
                scale=Scale.FIVE_POINT,
                date=day,
                weight=rng.choice((1, 1, 2)),
                comment=rng.choice((None, None, "Молодец", "Не готов к уроку")),
            )
        if number and rng.random() < 0.3:  # a correction of a mark of the last weeks
            old = rng.choice(list(marks)[-60:])
            value = rng.choice("2345")
            marks[old] = Grade(**{**_fields(marks[old]), "value": value, "numeric": float(value)})
        seen = dt.datetime.combine(day, dt.time(16), tzinfo=MOSCOW)
        changes = records.apply(
            session,
            link_id=link_id,
            section=Section.GRADES,
            window=Period(start=YEAR_START, end=day),
            records=list(marks.values()),
            seen_at=seen,
            baseline=number == 0,
        )
        states += len(changes) if number else len(marks)
        session.commit()
    return states


def _fields(grade: Grade) -> dict[str, object]:
    return {name: getattr(grade, name) for name in grade.__slots__}


def _others(session: Session, count: int) -> None:
    """Queue leaves of other children: only their number and place matter here."""
    now = dt.datetime.now(dt.UTC)
    for start in range(0, count, 5000):
        rows = []
        for _ in range(min(5000, count - start)):
            text = json.dumps({"v": 1, "other": secrets.token_hex(16)})
            rows.append(
                {
                    "leaf": text,
                    "leaf_hash": rfc9162.leaf_hash(text.encode()).hex(),
                    "queued_at": now,
                }
            )
        session.execute(sa.insert(LedgerLeaf), rows)
    session.commit()


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.proofs")
    parser.add_argument("--others", type=int, default=200_000, help="other children's leaves")
    args = parser.parse_args(argv)
    rng = random.Random(20261204)
    signer = Signer("bench.example/diary-log", [new_key()])
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(url)
        engine = sa.create_engine(url)
        with Session(engine) as session:
            link_id = _link(session)
            _others(session, args.others // 2)
            started = time.perf_counter()
            states = _year_of_marks(session, link_id, rng)
            synced = time.perf_counter() - started
            _others(session, args.others - args.others // 2)
            queued = ledger.waiting(session)
            started = time.perf_counter()
            signed = ledger.integrate(session, signer=signer, now=dt.datetime.now(dt.UTC))
            session.commit()
            sequenced = time.perf_counter() - started
            assert signed is not None
            print(f"log: {signed.size:,} leaves, of which {states:,} states of one child's year")
            print(f"  a year of daily syncs: {synced:.1f} s ({states / synced:,.0f} states/s)")
            print(
                f"  sequencer: {queued:,} leaves in {sequenced:.2f} s ({queued / sequenced:,.0f}/s)"
            )
            _bundle_figures(session, link_id, signer)
            started = time.perf_counter()
            report = ledger_audit.audit(session, keys=signer.trusted())
            audited = time.perf_counter() - started
            print(f"audit of the whole log: {audited:.1f} s, clean: {report.clean}")
        engine.dispose()
    return 0


def _bundle_figures(session: Session, link_id: int, signer: Signer) -> None:
    query = proofs.Query(section="grades", start=YEAR_START, end=YEAR_END)
    started = time.perf_counter()
    document = proofs.bundle(session, link_id=link_id, query=query, zone=MOSCOW)
    built = time.perf_counter() - started
    body = json.dumps(document, ensure_ascii=False).encode()
    started = time.perf_counter()
    verified = bundles.verify(json.loads(body), signer.trusted())
    checked = time.perf_counter() - started
    entries = len(verified.entries)
    path = len(document["entries"][0]["inclusion"])
    print(f"bundle of the year: {entries:,} states, {path} hashes per inclusion path")
    print(f"  size {len(body) / 1024:,.0f} KiB, gzipped {len(gzip.compress(body)) / 1024:,.0f} KiB")
    print(f"  built in {built:.2f} s, verified in {checked:.2f} s")
    day = proofs.Query(section="grades", as_of=dt.date(2025, 11, 12))
    on_day = proofs.bundle(session, link_id=link_id, query=day, zone=MOSCOW)
    size = len(json.dumps(on_day, ensure_ascii=False).encode()) / 1024
    count = len(on_day["entries"])
    print(f"bundle «what the diary said on 12 November»: {count} marks, {size:,.0f} KiB")


if __name__ == "__main__":
    sys.exit(main())
