"""python -m idp_mock: settings from the environment and the issuer it serves under."""

from __future__ import annotations

import typing as t

import pytest

from idp_mock import __main__ as cli


def test_settings_from_env_reads_only_idp_variables() -> None:
    settings = cli.settings_from_env(
        {"IDP_ISSUER": "http://idp.test", "IDP_PORT": "9100", "PORT": "1", "SECRET_KEY": "x"}
    )

    assert settings == {"IDP_ISSUER": "http://idp.test", "IDP_PORT": 9100}


def test_the_throttles_are_tuned_from_the_environment() -> None:
    settings = cli.settings_from_env({"IDP_ADDRESS_ATTEMPTS": "50", "IDP_CODE_SENDS": "3"})

    assert settings == {"IDP_ADDRESS_ATTEMPTS": 50, "IDP_CODE_SENDS": 3}


def test_the_demo_client_follows_the_gateway_it_is_launched_with() -> None:
    settings = cli.settings_from_env(
        {"IDP_DEMO_CLIENT_URL": "http://localhost:8100/", "IDP_DEMO_CLIENT_SECRET": "s3cret"}
    )

    (client,) = settings["IDP_CLIENTS"]
    assert client["client_id"] == "diary-gateway"
    assert client["client_secret"] == "s3cret"
    assert client["redirect_uris"] == ["http://localhost:8100/auth/callback"]
    assert client["post_logout_redirect_uris"] == ["http://localhost:8100/auth/logged-out"]
    assert client["backchannel_logout_uri"] == "http://localhost:8100/auth/backchannel-logout"


def test_without_those_variables_the_demo_client_is_demo_md_s() -> None:
    assert "IDP_CLIENTS" not in cli.settings_from_env({})


def test_a_throttle_setting_that_is_no_number_is_refused() -> None:
    with pytest.raises(SystemExit, match="IDP_ADDRESS_SECONDS must be a whole number"):
        cli.settings_from_env({"IDP_ADDRESS_SECONDS": "15m"})


@pytest.mark.parametrize(
    ("environ", "argv", "issuer", "port"),
    [
        ({}, [], "http://127.0.0.1:9000", 9000),
        ({"IDP_PORT": "9200"}, [], "http://127.0.0.1:9200", 9200),
        ({"IDP_PORT": "9200"}, ["--port", "9300"], "http://127.0.0.1:9300", 9300),
        ({"IDP_ISSUER": "http://localhost:9000"}, [], "http://localhost:9000", 9000),
    ],
)
def test_main_serves_the_issuer_it_announces(
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    argv: list[str],
    issuer: str,
    port: int,
) -> None:
    for name in ("IDP_ISSUER", "IDP_PORT", "IDP_DATABASE_URL", "IDP_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("IDP_DATABASE_URL", "sqlite://")
    served: dict[str, t.Any] = {}
    monkeypatch.setattr(
        cli,
        "run_simple",
        lambda host, port, app, threaded: served.update(host=host, port=port, app=app),
    )

    cli.main(argv)

    assert served["port"] == port
    discovery = served["app"].test_client().get("/.well-known/openid-configuration")
    assert discovery.get_json()["issuer"] == issuer


def test_bare_create_app_reads_idp_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any
) -> None:
    from idp_mock import create_app

    monkeypatch.setenv("IDP_ISSUER", "http://idp.env.test")
    monkeypatch.setenv("IDP_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")

    app = create_app()

    assert app.config["IDP_ISSUER"] == "http://idp.env.test"
    assert str(tmp_path) in app.config["IDP_DATABASE_URL"]
