"""Key rotation: a new kid signs, the old key stays published until pruned, CLI commands."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp_mock import __main__ as main_module
from tests.idp_mock.helpers import FakeClock
from tests.idp_mock.helpers import sign_in
from tests.idp_mock.helpers import tokens_for
from tests.idp_mock.helpers import unverified_header
from tests.idp_mock.helpers import verified_claims


def published_kids(client: FlaskClient) -> list[str]:
    """Return the kids in the JWKS document."""
    return [key["kid"] for key in client.get("/jwks").get_json()["keys"]]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Return a file database shared by the app and the command line."""
    return f"sqlite:///{tmp_path / 'idp.sqlite3'}"


def test_rotation_signs_with_a_new_kid_and_old_tokens_still_verify(
    make_idp: t.Callable[..., Flask], db_url: str
) -> None:
    app = make_idp(IDP_DATABASE_URL=db_url)
    client = app.test_client()
    sign_in(client, "+79000000001", "parent-demo-1")
    before = tokens_for(client)["id_token"]
    old_kid = unverified_header(before)["kid"]

    result = app.test_cli_runner().invoke(args=["rotate-keys"])
    after = tokens_for(client)["id_token"]

    assert result.exit_code == 0, result.output
    new_kid = unverified_header(after)["kid"]
    assert new_kid != old_kid
    assert new_kid in result.output
    assert published_kids(client) == [old_kid, new_kid]
    assert verified_claims(client, before)["sub"] == "1000000001"
    assert verified_claims(client, after)["sub"] == "1000000001"


def test_prune_keeps_the_old_key_until_its_tokens_expired(make_idp: t.Callable[..., Flask]) -> None:
    clock = FakeClock()
    app = make_idp(IDP_CLOCK=clock, IDP_TOKEN_TTL=600)
    client = app.test_client()
    runner = app.test_cli_runner()
    old_kid = published_kids(client)[0]
    runner.invoke(args=["rotate-keys"])
    new_kid = published_kids(client)[1]

    clock.advance(599)
    early = runner.invoke(args=["prune-keys"])
    kept = published_kids(client)
    clock.advance(1)
    late = runner.invoke(args=["prune-keys"])

    assert "nothing" in early.output
    assert kept == [old_kid, new_kid]
    assert old_kid in late.output
    assert published_kids(client) == [new_kid]


def test_prune_never_drops_the_current_key(make_idp: t.Callable[..., Flask]) -> None:
    clock = FakeClock()
    app = make_idp(IDP_CLOCK=clock)
    kids = published_kids(app.test_client())
    clock.advance(10**7)

    app.test_cli_runner().invoke(args=["prune-keys"])

    assert published_kids(app.test_client()) == kids


def test_python_m_rotate_keys_reaches_a_running_provider(
    make_idp: t.Callable[..., Flask],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serving = make_idp(IDP_DATABASE_URL=db_url).test_client()
    old_kid = published_kids(serving)[0]
    monkeypatch.setenv("IDP_DATABASE_URL", db_url)

    main_module.main(["rotate-keys"])

    new_kid = capsys.readouterr().out.split()[-1]
    assert published_kids(serving) == [old_kid, new_kid]
    sign_in(serving, "+79000000001", "parent-demo-1")
    assert unverified_header(tokens_for(serving)["id_token"])["kid"] == new_kid


def test_every_token_names_its_kid(irina: FlaskClient) -> None:
    tokens = tokens_for(irina)

    assert unverified_header(tokens["id_token"])["kid"] == published_kids(irina)[0]
