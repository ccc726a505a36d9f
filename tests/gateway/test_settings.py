"""Settings come from defaults, then the environment, then the test mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import create_app
from gateway.settings import ConfigurationError
from gateway.settings import from_environment


def test_environment_variables_are_coerced_into_config_keys() -> None:
    found = from_environment(
        {
            "GATEWAY_VAULT_KEYS": "k1, k2",
            "GATEWAY_LOG_KEYS": "l1,l2",
            "GATEWAY_LOG_ORIGIN": "dnevnik.example/diary-log",
            "GATEWAY_LOG_TSA_URL": "http://tsa.example/tsp",
            "GATEWAY_SMTP_URL": "smtp://127.0.0.1:1025",
            "GATEWAY_MAIL_FROM": "Дневник <d@example.ru>",
            "GATEWAY_PUBLIC_URL": "https://dnevnik.example/",
            "GATEWAY_VAPID_KEY": "vapid-key",
            "GATEWAY_VAPID_SUBJECT": "mailto:push@example.ru",
            "GATEWAY_PRODUCTION": "true",
            "DATABASE_URL": "postgresql+psycopg://db/x",
            "UNRELATED": "ignored",
        }
    )
    assert found == {
        "VAULT_KEYS": ["k1", "k2"],
        "LOG_KEYS": ["l1", "l2"],
        "LOG_ORIGIN": "dnevnik.example/diary-log",
        "LOG_TSA_URL": "http://tsa.example/tsp",
        "SMTP_URL": "smtp://127.0.0.1:1025",
        "MAIL_FROM": "Дневник <d@example.ru>",
        "PUBLIC_URL": "https://dnevnik.example",
        "VAPID_KEY": "vapid-key",
        "VAPID_SUBJECT": "mailto:push@example.ru",
        "PRODUCTION": True,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/x",
    }


def test_production_refuses_development_secrets_with_a_clear_message() -> None:
    with pytest.raises(ConfigurationError) as err:
        create_app({"PRODUCTION": True, "SECRET_KEY": None, "VAULT_KEYS": None})
    message = str(err.value)
    for variable in (
        "GATEWAY_SECRET_KEY",
        "GATEWAY_VAULT_KEYS",
        "GATEWAY_LOG_KEYS",
        "GATEWAY_OIDC_CLIENT_SECRET",
    ):
        assert variable in message


def test_development_generates_secrets_once_per_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway import settings

    config = {"PRODUCTION": False, "SECRET_KEY": None, "VAULT_KEYS": None}
    settings.finish(config, tmp_path)
    again = {"PRODUCTION": False, "SECRET_KEY": None, "VAULT_KEYS": None}
    settings.finish(again, tmp_path)
    assert config["SECRET_KEY"] and config["SECRET_KEY"] == again["SECRET_KEY"]
    assert config["VAULT_KEYS"] == again["VAULT_KEYS"]
    assert config["LOG_KEYS"] and config["LOG_KEYS"] == again["LOG_KEYS"]
    assert (tmp_path / "vault_key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "log_key").stat().st_mode & 0o077 == 0
    assert config["VAPID_KEY"] and config["VAPID_KEY"] == again["VAPID_KEY"]
    assert (tmp_path / "vapid_key").stat().st_mode & 0o077 == 0


def test_production_without_a_vapid_key_offers_no_push_rather_than_a_made_up_one(
    tmp_path: Path,
) -> None:
    from gateway import settings

    config = {"PRODUCTION": True, "SECRET_KEY": "s", "VAULT_KEYS": ["v"], "LOG_KEYS": ["l"]}
    config |= {"OIDC_CLIENT_SECRET": "real", "_DEV_OIDC_CLIENT_SECRET": "dev"}
    config |= {"ALLOW_PRIVATE_BACKENDS": None}
    settings.finish(config, tmp_path)
    assert config.get("VAPID_KEY") is None and not (tmp_path / "vapid_key").exists()


def test_a_vapid_key_that_does_not_read_stops_the_start_with_its_name() -> None:
    with pytest.raises(ConfigurationError, match="GATEWAY_VAPID_KEY: not a VAPID private key"):
        create_app({"VAPID_KEY": "not-a-key", "SECRET_KEY": "x", "VAULT_KEYS": None})


def test_a_mail_server_url_that_does_not_read_stops_the_start_with_its_name() -> None:
    with pytest.raises(ConfigurationError, match="GATEWAY_SMTP_URL: an SMTP URL is"):
        create_app({"SMTP_URL": "mail.example.ru:25", "SECRET_KEY": "x", "VAULT_KEYS": None})
