"""Checkpoints are C2SP signed notes: every configured key signs, any one verifies, and a
changed line or a stranger's key is refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from gateway.services.checkpoints import Signer
from gateway.services.checkpoints import SigningKeyError
from gateway.services.checkpoints import new_key
from verifier import checkpoint as notes

ORIGIN = "dnevnik.example.ru/diary-log"
ROOT = hashlib.sha256(b"root").digest()
AT = dt.datetime(2026, 11, 12, 15, 4, 5, tzinfo=dt.UTC)


def test_a_checkpoint_reads_as_a_signed_note_and_verifies() -> None:
    signer = Signer(ORIGIN, [new_key()])
    note = signer.sign(41, ROOT, signed_at=AT)
    body, _, signature = note.partition("\n\n")
    assert body.split("\n") == [
        ORIGIN,
        "41",
        base64.b64encode(ROOT).decode(),
        "signed-at 2026-11-12T15:04:05Z",
    ]
    assert signature.startswith(f"\u2014 {ORIGIN} ")
    said = notes.verify(note, signer.trusted(), origin=ORIGIN)
    assert (said.origin, said.size, said.root) == (ORIGIN, 41, ROOT)
    assert said.extension("signed-at") == "2026-11-12T15:04:05Z"


def test_every_key_signs_so_a_verifier_holding_either_one_accepts_during_a_rotation() -> None:
    old, new = new_key(), new_key()
    rotated = Signer(ORIGIN, [new, old])
    note = rotated.sign(7, ROOT, signed_at=AT)
    assert len(notes.parse(note).signatures) == 2
    for key in rotated.trusted():
        notes.verify(note, [key])
    assert rotated.verifier_keys()[1] == Signer(ORIGIN, [old]).verifier_keys()[0]


@pytest.mark.parametrize(
    "edit",
    [
        lambda note: note.replace("\n41\n", "\n42\n"),
        lambda note: note.replace("signed-at 2026", "signed-at 2025"),
        lambda note: note.replace(ORIGIN + "\n", "other.example/log\n", 1),
    ],
)
def test_a_changed_line_does_not_verify(edit: object) -> None:
    signer = Signer(ORIGIN, [new_key()])
    note = edit(signer.sign(41, ROOT, signed_at=AT))  # type: ignore[operator]
    with pytest.raises(notes.CheckpointError):
        notes.verify(note, signer.trusted())


def test_a_strangers_key_and_another_logs_origin_are_refused() -> None:
    note = Signer(ORIGIN, [new_key()]).sign(1, ROOT, signed_at=AT)
    with pytest.raises(notes.CheckpointError, match="no trusted key"):
        notes.verify(note, Signer(ORIGIN, [new_key()]).trusted())
    signer = Signer(ORIGIN, [new_key()])
    with pytest.raises(notes.CheckpointError, match="not 'x/log'"):
        notes.verify(signer.sign(1, ROOT, signed_at=AT), signer.trusted(), origin="x/log")


def test_a_verifier_key_whose_id_does_not_match_its_key_is_refused() -> None:
    key = Signer(ORIGIN, [new_key()]).verifier_keys()[0]
    name, key_id, encoded = key.split("+", 2)
    with pytest.raises(notes.CheckpointError, match="id does not match"):
        notes.VerifierKey.parse(
            f"{name}+{'00000000' if key_id != '00000000' else '11111111'}+{encoded}"
        )
    with pytest.raises(notes.CheckpointError):
        notes.VerifierKey.parse("not a key")


@pytest.mark.parametrize("note", ["", "a\n1\n", "a\nx\nAAAA\n\n\u2014 a AAAA\n", "a\n1\nAAAA\n\n"])
def test_a_malformed_checkpoint_is_refused(note: str) -> None:
    with pytest.raises(notes.CheckpointError):
        notes.parse(note)


def test_a_signing_key_that_does_not_read_and_an_origin_with_spaces_are_refused() -> None:
    with pytest.raises(SigningKeyError):
        Signer(ORIGIN, ["not base64!"])
    with pytest.raises(SigningKeyError):
        Signer("a log", [new_key()])
    with pytest.raises(SigningKeyError):
        Signer(ORIGIN, [])
