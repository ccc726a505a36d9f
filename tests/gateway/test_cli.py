"""The operators' command line: register, list, check, disable connector instances."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ConnectorInstance
from tests.gateway.conftest import make_operator


def test_add_validates_settings_with_the_connector_and_lists_the_instance(
    stack_app: Flask, netschool_url: str
) -> None:
    make_operator(stack_app, "63")
    runner = stack_app.test_cli_runner()
    added = runner.invoke(
        args=[
            "connectors",
            "add",
            "--key",
            "samara-2",
            "--region-code",
            "63",
            "--region-name",
            "Самарская область (резерв)",
            "--connector",
            "netschool",
            "--base-url",
            netschool_url,
            "--setting",
            "read_timeout=5",
            "--by",
            "operator-63",
        ]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(args=["connectors", "list"]).output.splitlines()
    assert any(line.startswith("samara-2\t") and line.endswith("\tuntested") for line in listed)
    assert any(
        line.startswith("samara-netschool\t") and line.endswith("\tenabled") for line in listed
    )


def test_add_refuses_an_unknown_type_a_taken_key_and_bad_settings(
    stack_app: Flask, netschool_url: str
) -> None:
    make_operator(stack_app, "63")
    runner = stack_app.test_cli_runner()
    base = ["connectors", "add", "--region-code", "63", "--region-name", "X", "--by", "operator-63"]
    unknown = runner.invoke(
        args=[*base, "--key", "a", "--connector", "nope", "--base-url", netschool_url]
    )
    assert unknown.exit_code != 0 and "no connector named 'nope'" in unknown.output
    taken = runner.invoke(
        args=[
            *base,
            "--key",
            "samara-netschool",
            "--connector",
            "netschool",
            "--base-url",
            "http://x",
        ]
    )
    assert taken.exit_code != 0 and "already exists" in taken.output
    bad = runner.invoke(
        args=[*base, "--key", "b", "--connector", "netschool", "--base-url", "ftp://nowhere"]
    )
    assert bad.exit_code != 0 and "refuses these settings" in bad.output
    with stack_app.app_context():
        keys = set(db.session.scalars(select(ConnectorInstance.key)))
    assert "a" not in keys and "b" not in keys


def test_check_signs_in_and_reports_the_sections(stack_app: Flask) -> None:
    runner = stack_app.test_cli_runner()
    ok = runner.invoke(
        args=[
            "connectors",
            "check",
            "samara-netschool",
            "--login",
            "КузнецовАП",
            "--password",
            "Дарья2015",
            "--school",
            "Лицей № 3",
        ]
    )
    assert ok.exit_code == 0, ok.output
    assert "2 student(s)" in ok.output
    assert "attendance, grades, homework, schedule" in ok.output
    wrong = runner.invoke(
        args=[
            "connectors",
            "check",
            "samara-netschool",
            "--login",
            "КузнецовАП",
            "--password",
            "wrong",
            "--school",
            "Лицей № 3",
        ]
    )
    assert wrong.exit_code != 0 and "the system refused the test login" in wrong.output
    assert "wrong" not in wrong.output.replace("check failed", "")


def test_check_asks_for_a_code_when_the_system_wants_one(stack_app: Flask) -> None:
    runner = stack_app.test_cli_runner()
    args = [
        "connectors",
        "check",
        "moscow-mesh",
        "--login",
        "irina.smirnova",
        "--password",
        "Mesh-2026-parent",
    ]
    assert "pass --code" in runner.invoke(args=args).output
    confirmed = runner.invoke(args=[*args, "--code", "424242"])
    assert confirmed.exit_code == 0 and "1 student(s)" in confirmed.output


def test_a_disabled_instance_is_no_longer_offered_to_parents(stack_app: Flask) -> None:
    runner = stack_app.test_cli_runner()
    assert runner.invoke(args=["connectors", "disable", "tver-dnevnik"]).exit_code == 0
    with stack_app.app_context():
        instance = db.session.scalar(
            select(ConnectorInstance).where(ConnectorInstance.key == "tver-dnevnik")
        )
        assert instance.enabled is False
    assert "disabled" in runner.invoke(args=["connectors", "list"]).output
    assert runner.invoke(args=["connectors", "enable", "tver-dnevnik"]).exit_code == 0
    missing = runner.invoke(args=["connectors", "disable", "atlantis"])
    assert missing.exit_code != 0 and "no instance" in missing.output
