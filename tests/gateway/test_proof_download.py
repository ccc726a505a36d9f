"""A parent downloads the proof of what the diary said, and the shipped verifier checks it
offline against the published keys and a checkpoint kept earlier; the public log serves
checkpoints, keys and consistency proofs to anyone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import update

from gateway import jobs
from gateway.extensions import db
from gateway.models import SyncedRecord
from tests.gateway.clock import Clock
from tests.gateway.clock import pin_clock
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade
from tests.gateway.sync.helpers import drain
from tests.gateway.sync.helpers import due_now
from tests.gateway.sync.helpers import link_children
from tests.support.tsa import Authority

ROOT = Path(__file__).resolve().parents[2]
MORNING = dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 3)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return pin_clock(monkeypatch, MORNING)


def _checkpoint(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["log", "checkpoint"])
    assert result.exit_code == 0, result.output
    return result.output


def _verify(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verifier", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def synced(parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock) -> int:
    """The first child with two marks, synced and signed; return its link id."""
    first, _ = link_children(parent, fake_app)
    grade(school.grades["s1"], id="m1", value="2", numeric=2.0, date=TODAY, comment="Не готов")
    grade(school.grades["s1"], id="m2", value="5", numeric=5.0, date=TODAY)
    due_now(fake_app, clock.at)
    drain(fake_app)
    _checkpoint(fake_app)
    return first


def _download(parent: FlaskClient, child: int, tmp_path: Path, **query: str) -> Path:
    reply = parent.get(f"/child/{child}/proof", query_string={"section": "grades", **query})
    assert reply.status_code == 200, reply.text
    assert reply.mimetype == "application/json"
    assert reply.headers["Content-Disposition"].startswith('attachment; filename="diary-proof-')
    path = tmp_path / "bundle.json"
    path.write_bytes(reply.data)
    return path


def _keys(client: FlaskClient, tmp_path: Path) -> Path:
    reply = client.get("/log/keys")
    assert reply.status_code == 200 and reply.mimetype == "text/plain"
    path = tmp_path / "keys.txt"
    path.write_text(reply.text)
    return path


def test_the_downloaded_proof_verifies_offline(
    parent: FlaskClient, fake_app: Flask, synced: int, tmp_path: Path
) -> None:
    bundle = _download(parent, synced, tmp_path, start=TODAY.isoformat(), end=TODAY.isoformat())
    keys = _keys(fake_app.test_client(), tmp_path)
    result = _verify(tmp_path, "bundle", str(bundle), "--keys", str(keys))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ПОДТВЕРЖДЕНО / VERIFIED: записей в журнале — 2" in result.stdout
    assert f"{TODAY.isoformat()} Математика 2" in result.stdout
    entries = json.loads(bundle.read_text())["entries"]
    assert {e["payload"]["comment"] for e in entries} >= {"Не готов"}


def test_a_mark_edited_in_the_database_fails_the_verifier_and_the_audit(
    parent: FlaskClient, fake_app: Flask, synced: int, tmp_path: Path
) -> None:
    with fake_app.app_context():
        row = db.session.scalars(select(SyncedRecord).where(SyncedRecord.record_key == "m1")).one()
        db.session.execute(
            update(SyncedRecord)
            .where(SyncedRecord.id == row.id)
            .values(payload={**row.payload, "value": "4", "numeric": 4.0})
        )
        db.session.commit()
    bundle = _download(parent, synced, tmp_path)
    keys = _keys(fake_app.test_client(), tmp_path)
    result = _verify(tmp_path, "bundle", str(bundle), "--keys", str(keys))
    assert result.returncode == 1
    assert "НЕ ПОДТВЕРЖДЕНО" in result.stdout and "content does not match" in result.stdout
    audit = fake_app.test_cli_runner().invoke(args=["log", "audit"])
    assert audit.exit_code == 1
    assert "the stored record is not what the log says was seen" in audit.output


def test_the_audit_of_an_untouched_log_passes(fake_app: Flask, synced: int) -> None:
    audit = fake_app.test_cli_runner().invoke(args=["log", "audit"])
    assert audit.exit_code == 0, audit.output
    assert "the log is intact" in audit.output


def test_a_saved_checkpoint_is_held_to_the_new_one_by_a_consistency_proof(
    parent: FlaskClient,
    fake_app: Flask,
    school: FakeSchool,
    clock: Clock,
    synced: int,
    tmp_path: Path,
) -> None:
    public = fake_app.test_client()
    saved = tmp_path / "saved.txt"
    saved.write_text(public.get("/log/checkpoint").text)
    saved_size = int(saved.read_text().split("\n")[1])
    marks = school.grades["s1"]
    marks[0] = dataclasses.replace(marks[0], value="3", numeric=3.0)
    clock.advance(minutes=30)
    due_now(fake_app, clock.at)
    drain(fake_app)
    _checkpoint(fake_app)
    keys = _keys(public, tmp_path)
    bundle = _download(parent, synced, tmp_path, since=str(saved_size))
    result = _verify(
        tmp_path, "bundle", str(bundle), "--keys", str(keys), "--checkpoint", str(saved)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"consistent with the saved one of {saved_size}" in result.stdout
    # A monitor does the same with the public endpoints alone.
    latest = tmp_path / "latest.txt"
    latest.write_text(public.get("/log/checkpoint").text)
    size = int(latest.read_text().split("\n")[1])
    proof = tmp_path / "proof.json"
    proof.write_text(public.get(f"/log/consistency?from={saved_size}&to={size}").text)
    monitor = _verify(
        tmp_path, "consistency", str(saved), str(latest), str(proof), "--keys", str(keys)
    )
    assert monitor.returncode == 0, monitor.stdout
    assert f"журнал размера {size} продолжает журнал размера {saved_size}" in monitor.stdout
    # Without the proof from the saved size, the bundle cannot vouch for it.
    plain = _download(parent, synced, tmp_path)
    refused = _verify(
        tmp_path, "bundle", str(plain), "--keys", str(keys), "--checkpoint", str(saved)
    )
    assert refused.returncode == 1 and "no consistency proof" in refused.stdout


def test_the_history_drawer_links_each_mark_to_its_proof(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, synced: int
) -> None:
    marks = school.grades["s1"]
    marks[0] = dataclasses.replace(marks[0], value="3", numeric=3.0)
    clock.advance(minutes=30)
    due_now(fake_app, clock.at)
    drain(fake_app)
    page = parent.get(f"/child/{synced}?section=grades").text
    assert f"/child/{synced}/proof?section=grades&amp;record=m1" in page


def test_the_proof_page_explains_and_asks_before_downloading(
    parent: FlaskClient, synced: int
) -> None:
    page = parent.get(f"/child/{synced}/proof")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Скачать доказательство" in page.text and "python -m verifier" in page.text
    assert 'name="section"' in page.text and 'name="as_of"' in page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"section": "nonsense"}, "Выберите раздел из списка."),
        ({"start": "2026-13-01"}, "Проверьте дату."),
        ({"start": "2026-12-05", "end": "2026-12-01"}, "Конец периода раньше его начала."),
        ({"as_of": "вчера"}, "Проверьте дату."),
        ({"since": "0"}, "Целое число больше нуля."),
        ({"since": "много"}, "Целое число больше нуля."),
        ({"record": "x" * 256}, "Не больше 255 знаков."),
        ({"record": "a\x00b"}, "Уберите служебные символы"),
        ({"end": "2026-02-30"}, "Проверьте дату."),
    ],
)
def test_each_field_refuses_bad_input_with_a_message(
    parent: FlaskClient, synced: int, query: dict[str, str], message: str
) -> None:
    reply = parent.get(f"/child/{synced}/proof", query_string={"section": "grades", **query})
    assert reply.status_code == 400
    assert message in reply.text


def test_every_field_together_downloads_one_state(
    parent: FlaskClient, fake_app: Flask, synced: int, tmp_path: Path
) -> None:
    size = int(fake_app.test_client().get("/log/checkpoint").text.split("\n")[1])
    bundle = _download(
        parent,
        synced,
        tmp_path,
        start=TODAY.isoformat(),
        end=TODAY.isoformat(),
        as_of=TODAY.isoformat(),
        record="m2",
        since=str(size),
    )
    document = json.loads(bundle.read_text())
    assert [e["record_key"] for e in document["entries"]] == ["m2"]
    assert document["query"]["as_of"] == TODAY.isoformat()
    assert document["consistency"] == []  # the saved size is the newest: nothing to prove


def test_before_the_first_checkpoint_the_page_says_to_wait(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    first, _ = link_children(parent, fake_app)
    reply = parent.get(f"/child/{first}/proof", query_string={"section": "grades"})
    assert reply.status_code == 409
    assert "Журнал ещё не подписал записей этого ребёнка" in reply.text


def test_a_since_size_never_signed_is_refused(parent: FlaskClient, synced: int) -> None:
    reply = parent.get(f"/child/{synced}/proof", query_string={"section": "grades", "since": "1"})
    assert reply.status_code == 409


def test_the_public_log_serves_checkpoints_keys_and_proofs(fake_app: Flask, synced: int) -> None:
    public = fake_app.test_client()
    latest = public.get("/log/checkpoint")
    assert latest.status_code == 200 and latest.mimetype == "text/plain"
    size = int(latest.text.split("\n")[1])
    assert public.get(f"/log/checkpoint?size={size}").text == latest.text
    assert public.get("/log/checkpoint?size=99999").status_code == 404
    assert public.get("/log/checkpoint?size=x").status_code == 400
    assert public.get("/log/checkpoint?size=-1").status_code == 400
    proof = public.get(f"/log/consistency?from=1&to={size}").get_json()
    assert proof["from"] == 1 and proof["to"] == size and proof["proof"]
    assert public.get("/log/consistency?from=1").status_code == 400
    assert public.get(f"/log/consistency?from=2&to={size + 1}").status_code == 400
    assert public.get("/log/consistency?from=x&to=y").status_code == 400
    page = public.get("/log/")
    assert page.status_code == 200 and "Журнал прозрачности" in page.text
    assert f"Записей: {size}" in page.text


def test_with_a_timestamping_authority_the_proof_carries_its_stamp(
    parent: FlaskClient,
    fake_app: Flask,
    school: FakeSchool,
    clock: Clock,
    tsa: Authority,
    tmp_path: Path,
) -> None:
    fake_app.config["LOG_TSA_URL"] = tsa.url
    first, _ = link_children(parent, fake_app)
    grade(school.grades["s1"], id="m1", value="2", numeric=2.0, date=TODAY)
    due_now(fake_app, clock.at)
    drain(fake_app)
    tsa.fail = True
    with fake_app.app_context():
        assert jobs.checkpoint() is not None  # signed; the stamp waits for the next run
    tsa.fail = False
    assert "timestamped by the configured authority (RFC 3161)" in _checkpoint(fake_app)
    bundle = _download(parent, first, tmp_path)
    keys = _keys(fake_app.test_client(), tmp_path)
    result = _verify(
        tmp_path, "bundle", str(bundle), "--keys", str(keys), "--tsa-root", str(tsa.root_pem)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "timestamped by the authority at 20" in result.stdout
    unchecked = _verify(tmp_path, "bundle", str(bundle), "--keys", str(keys))
    assert unchecked.returncode == 0 and "timestamp not checked" in unchecked.stdout
