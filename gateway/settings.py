"""Load the gateway's settings: packaged defaults, then the environment, then a test mapping."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import tomllib
import typing as t
import urllib.parse
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet

from gateway.services import checkpoints
from gateway.services import push
from gateway.services.mail import SmtpServer

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class ConfigurationError(RuntimeError):
    """The gateway cannot start with these settings."""


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Environment variable -> (Flask config key, coercer). One table, read in one place.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], t.Any]]] = {
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "REDIS_URL": ("REDIS_URL", str),
    "GATEWAY_SECRET_KEY": ("SECRET_KEY", str),
    "GATEWAY_PUBLIC_URL": ("PUBLIC_URL", lambda v: v.rstrip("/")),
    "GATEWAY_OIDC_ISSUER": ("OIDC_ISSUER", str),
    "GATEWAY_OIDC_CLIENT_ID": ("OIDC_CLIENT_ID", str),
    "GATEWAY_OIDC_CLIENT_SECRET": ("OIDC_CLIENT_SECRET", str),
    "GATEWAY_OIDC_SCOPES": ("OIDC_SCOPES", str),
    "GATEWAY_OIDC_REGISTRATION_URL": ("OIDC_REGISTRATION_URL", str),
    "GATEWAY_VAULT_KEYS": ("VAULT_KEYS", _csv),
    "GATEWAY_LOG_KEYS": ("LOG_KEYS", _csv),
    "GATEWAY_LOG_ORIGIN": ("LOG_ORIGIN", str),
    "GATEWAY_LOG_TSA_URL": ("LOG_TSA_URL", str),
    "GATEWAY_SMTP_URL": ("SMTP_URL", str),
    "GATEWAY_MAIL_FROM": ("MAIL_FROM", str),
    "GATEWAY_DEV_MAIL_DIR": ("DEV_MAIL_DIR", str),
    "GATEWAY_VAPID_KEY": ("VAPID_KEY", str),
    "GATEWAY_VAPID_SUBJECT": ("VAPID_SUBJECT", str),
    "GATEWAY_TELEGRAM_TOKEN": ("TELEGRAM_TOKEN", str),
    "GATEWAY_TELEGRAM_BOT": ("TELEGRAM_BOT", lambda v: v.lstrip("@")),
    "GATEWAY_TELEGRAM_API_URL": ("TELEGRAM_API_URL", lambda v: v.rstrip("/")),
    "GATEWAY_TELEGRAM_LINK_URL": ("TELEGRAM_LINK_URL", lambda v: v.rstrip("/")),
    "GATEWAY_PRODUCTION": ("PRODUCTION", _bool),
    "GATEWAY_CONNECTORS_FILE": ("CONNECTORS_FILE", str),
    "GATEWAY_LINK_MIN_LEVEL": ("LINK_MIN_LEVEL", str),
    "GATEWAY_TRUST_ACCESS_DELAY_SECONDS": ("TRUST_ACCESS_DELAY_SECONDS", int),
    "GATEWAY_ROLES_FILE": ("ROLES_FILE", str),
    "GATEWAY_APPLICATION_RETENTION_DAYS": ("APPLICATION_RETENTION_DAYS", int),
    "GATEWAY_MAX_REQUEST_KB": ("MAX_REQUEST_KB", int),
    "GATEWAY_ALLOW_PRIVATE_BACKENDS": ("ALLOW_PRIVATE_BACKENDS", _bool),
    "GATEWAY_BROKER_URL": ("BROKER_URL", str),
    "GATEWAY_SYNC_FILE": ("SYNC_FILE", str),
    "GATEWAY_BUDGET_FILE": ("BUDGET_FILE", str),
}


def _region_names(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        return dict(tomllib.load(fh)["regions"])


def packaged_defaults(instance_path: Path) -> dict[str, t.Any]:
    """Read config/gateway.toml into Flask config keys."""
    with (CONFIG_DIR / "gateway.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    gateway, oidc, limits = raw["gateway"], raw["oidc"], raw["limits"]
    sessions, diary, trust = raw["sessions"], raw["diary"], raw["trust"]
    applications, log, mail = raw["applications"], raw["log"], raw["mail"]
    web_push, telegram = raw["push"], raw["telegram"]
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'gateway.sqlite3'}",
        "REDIS_URL": None,
        "PUBLIC_URL": gateway["public_url"],
        "PRODUCTION": gateway["production"],
        "ALLOW_PRIVATE_BACKENDS": gateway.get("allow_private_backends"),
        "CONSENT_VERSION": gateway["consent_version"],
        "CONNECTORS_FILE": str(CONFIG_DIR / gateway["connectors_file"]),
        "ROLES_FILE": str(CONFIG_DIR / gateway["roles_file"]),
        "REGION_NAMES": _region_names(CONFIG_DIR / gateway["regions_file"]),
        "APPLICATION_RETENTION_DAYS": int(applications["retention_days"]),
        "LIMIT_APPLICATIONS": applications["limit"],
        "BACKEND_TIMEOUT": float(gateway["backend_timeout"]),
        "LINK_MIN_LEVEL": gateway["link_min_level"],
        "OIDC_ISSUER": oidc["issuer"],
        "OIDC_CLIENT_ID": oidc["client_id"],
        "OIDC_CLIENT_SECRET": oidc["client_secret"],
        "OIDC_SCOPES": oidc["scopes"],
        "OIDC_REGISTRATION_URL": oidc["registration_url"],
        "DIARY_FRESH_SECONDS": int(diary["fresh_seconds"]),
        "DIARY_REVALIDATE_SECONDS": int(diary["revalidate_seconds"]),
        "DIARY_REFRESH_DEBOUNCE_SECONDS": int(diary["refresh_debounce_seconds"]),
        "TRUST_ACCESS_DELAY_SECONDS": min(max(int(trust["access_delay_seconds"]), 0), 86400),
        "PAGE_DEADLINE_SECONDS": float(diary["page_deadline_seconds"]),
        "FETCH_WORKERS": int(diary["fetch_workers"]),
        "DIARY_RETROACTIVE_DAYS": int(diary["retroactive_days"]),
        "SESSION_IDLE_MINUTES": int(sessions["idle_minutes"]),
        "SESSION_ABSOLUTE_HOURS": int(sessions["absolute_hours"]),
        "LIMIT_LOGIN": limits["login"],
        "LIMIT_CREDENTIALS": limits["credentials"],
        "LIMIT_REFRESH": limits["refresh"],
        "MAX_REQUEST_KB": int(limits["request_kb"]),
        "SECRET_KEY": None,
        "VAULT_KEYS": None,
        # The transparency log's Ed25519 signing keys (base64 of 32 bytes; each signs) and
        # its name in every checkpoint (None: the public URL's host and /diary-log).
        "LOG_KEYS": None,
        "LOG_ORIGIN": log.get("origin"),
        "LOG_CHECKPOINT_SECONDS": float(log["checkpoint_seconds"]),
        # An RFC 3161 timestamping authority that stamps each checkpoint (None: none).
        "LOG_TSA_URL": log.get("tsa_url"),
        # Notification e-mail: the SMTP server (None: no e-mail is sent), the sender, and
        # how often the sender looks for what is due.
        "SMTP_URL": mail.get("smtp_url"),
        "MAIL_FROM": mail["sender"],
        "NOTIFY_SEND_SECONDS": float(mail["send_seconds"]),
        # Where the demo's SMTP server (scripts/dev_mail.py) keeps what it received, for the
        # development page /__dev/mail; None: the page has nothing to show.
        "DEV_MAIL_DIR": None,
        # Web Push: the VAPID private key (base64url P-256; None: generated per instance folder
        # in development, no push in production), the contact push services may write to,
        # and how long a push service keeps a message for a browser that is offline.
        "VAPID_KEY": None,
        "VAPID_SUBJECT": web_push["subject"],
        "PUSH_TTL_SECONDS": int(web_push["ttl_seconds"]),
        # Telegram: the bot's token (None: no Telegram), its username for the deep link,
        # the Bot API and the links' host (Telegram's, or the demo's stand-in), the pace.
        "TELEGRAM_TOKEN": None,
        "TELEGRAM_BOT": telegram.get("bot"),
        "TELEGRAM_API_URL": telegram["api_url"],
        "TELEGRAM_LINK_URL": telegram["link_url"],
        "TELEGRAM_PER_SECOND": float(telegram["messages_per_second"]),
        "TELEGRAM_POLL_SECONDS": float(telegram["poll_seconds"]),
        # The background jobs' broker: Redis when REDIS_URL is set, else a SQLite file here.
        "BROKER_URL": None,
        "SYNC_FILE": str(CONFIG_DIR / "sync.toml"),
        # Each backend's shared budget: in Redis when REDIS_URL is set, else this SQLite file
        # that every process of the machine opens (None: budget.sqlite3 in the instance folder).
        "BUDGET_FILE": None,
        "BUDGET_PREFIX": "diary-gateway:budget:",
        "_DEV_OIDC_CLIENT_SECRET": oidc["client_secret"],
    }


def from_environment(environ: Mapping[str, str]) -> dict[str, t.Any]:
    """Pick the gateway's variables out of the environment, coerced."""
    found: dict[str, t.Any] = {}
    for variable, (key, coerce) in ENVIRONMENT.items():
        value = environ.get(variable)
        if value:
            found[key] = coerce(value)
    return found


def _instance_secret(instance_path: Path, name: str, make: Callable[[], str]) -> str:
    """Return a development secret kept in the instance folder, creating it once."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written whole to a 0600 file first, then linked in: never readable by others,
        # never seen half-written, and the first of processes starting together wins.
        descriptor, draft = tempfile.mkstemp(dir=instance_path, prefix=f".{name}.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as fh:
                fh.write(make())
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.unlink(draft)
    return path.read_text(encoding="utf-8").strip()


def finish(config: dict[str, t.Any], instance_path: Path) -> None:
    """Fill in development secrets, or refuse production settings that still lack them."""
    if config.get("SMTP_URL"):
        try:
            SmtpServer.from_url(str(config["SMTP_URL"]))
        except ValueError as err:
            raise ConfigurationError(f"GATEWAY_SMTP_URL: {err}") from err
    if config.get("VAPID_KEY"):
        try:
            push.vapid_of(str(config["VAPID_KEY"]))
        except ValueError as err:
            raise ConfigurationError(f"GATEWAY_VAPID_KEY: {err}") from err
    if not config.get("LOG_ORIGIN"):
        config["LOG_ORIGIN"] = log_origin(str(config.get("PUBLIC_URL") or ""))
    if not config.get("BROKER_URL"):
        config["BROKER_URL"] = config.get("REDIS_URL") or (
            f"sqla+sqlite:///{instance_path / 'broker.sqlite3'}"
        )
    if config.get("ALLOW_PRIVATE_BACKENDS") is None:
        # Unset: development's emulators live on 127.0.0.1; production refuses such backends.
        config["ALLOW_PRIVATE_BACKENDS"] = not config["PRODUCTION"]
    if config["PRODUCTION"]:
        missing = [
            variable
            for variable, key in (
                ("GATEWAY_SECRET_KEY", "SECRET_KEY"),
                ("GATEWAY_VAULT_KEYS", "VAULT_KEYS"),
                ("GATEWAY_LOG_KEYS", "LOG_KEYS"),
            )
            if not config.get(key)
        ]
        if config["OIDC_CLIENT_SECRET"] == config["_DEV_OIDC_CLIENT_SECRET"]:
            missing.append("GATEWAY_OIDC_CLIENT_SECRET")
        if missing:
            raise ConfigurationError(
                "Production mode needs real secrets; set "
                + ", ".join(missing)
                + " (development defaults are refused)."
            )
        return
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(
            instance_path, "secret_key", lambda: secrets.token_urlsafe(48)
        )
    if not config.get("VAULT_KEYS"):
        config["VAULT_KEYS"] = [
            _instance_secret(instance_path, "vault_key", lambda: Fernet.generate_key().decode())
        ]
    if not config.get("LOG_KEYS"):
        config["LOG_KEYS"] = [_instance_secret(instance_path, "log_key", checkpoints.new_key)]
    if not config.get("VAPID_KEY"):
        config["VAPID_KEY"] = _instance_secret(instance_path, "vapid_key", push.new_vapid_key)


def log_origin(public_url: str) -> str:
    """Name the log after the gateway's host: ``gateway.example.ru/diary-log``."""
    host = urllib.parse.urlsplit(public_url).netloc or "diary-gateway"
    return f"{host}/diary-log"


def flask_settings(config: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Derive the extensions' own settings from the gateway's."""
    secure = str(config["PUBLIC_URL"]).startswith("https://")
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": "dg_session",
        "RATELIMIT_STORAGE_URI": config.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Moscow",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Larger requests are refused from their Content-Length, before a byte is read.
        "MAX_CONTENT_LENGTH": int(config["MAX_REQUEST_KB"]) * 1024,
        "MAX_FORM_MEMORY_SIZE": int(config["MAX_REQUEST_KB"]) * 1024,
    }
