"""``flask log``: sign now, show the verifier keys, make a key to rotate to."""

from __future__ import annotations

from flask import Flask

from gateway.services.checkpoints import Signer
from verifier import checkpoint as notes


def test_checkpoint_signs_the_empty_log_once_then_has_nothing_new(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["log", "checkpoint"])
    assert first.exit_code == 0, first.output
    keys = runner.invoke(args=["log", "keys"]).output.split()
    said = notes.verify(first.output, [notes.VerifierKey.parse(key) for key in keys])
    assert said.size == 0 and said.origin == "localhost/diary-log"
    again = runner.invoke(args=["log", "checkpoint"])
    assert again.exit_code == 0 and again.output == "nothing new: the log holds 0 leaves\n"


def test_a_new_key_put_first_signs_beside_the_old_one(make_app: object) -> None:
    runner_app: Flask = make_app()  # type: ignore[operator]
    fresh = runner_app.test_cli_runner().invoke(args=["log", "new-key"]).output.strip()
    old = runner_app.config["LOG_KEYS"]
    rotated: Flask = make_app(LOG_KEYS=[fresh, *old])  # type: ignore[operator]
    keys = rotated.test_cli_runner().invoke(args=["log", "keys"]).output.split()
    assert keys == Signer("localhost/diary-log", [fresh, *old]).verifier_keys()
    signed = rotated.test_cli_runner().invoke(args=["log", "checkpoint"]).output
    assert len(notes.parse(signed).signatures) == 2
    for key in keys:
        notes.verify(signed, [notes.VerifierKey.parse(key)])


def test_the_origin_setting_names_the_log(make_app: object) -> None:
    app: Flask = make_app(LOG_ORIGIN="dnevnik.example.ru/diary-log")  # type: ignore[operator]
    signed = app.test_cli_runner().invoke(args=["log", "checkpoint"]).output
    assert signed.startswith("dnevnik.example.ru/diary-log\n0\n")
