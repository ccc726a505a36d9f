"""An OpenID provider standing in for Gosuslugi/ESIA and mos.ru."""

from __future__ import annotations

import os
import secrets
import typing as t
from collections.abc import Mapping

from flask import Flask
from flask import Response
from flask import request

from idp_mock.clients import DEMO_CLIENT

DEFAULTS: dict[str, t.Any] = {
    "IDP_ISSUER": "http://127.0.0.1:9000",
    "IDP_DATABASE_URL": None,
    "IDP_CLIENTS": [DEMO_CLIENT],
    "IDP_SEED_DEMO": True,
    "IDP_TOKEN_TTL": 3600,
    "IDP_REFRESH_TTL": 30 * 24 * 3600,
    # Development stand-in: the fault switch and the dev pages are on unless turned off.
    "IDP_DEV_FAULTS": True,
    "IDP_DEV_PAGES": True,
    "IDP_BACKCHANNEL_TIMEOUT": 2.0,
    "IDP_CODE_TTL": 300,
    "IDP_CODE_ATTEMPTS": 3,
    # A resend waits this long after the last code; at most IDP_CODE_SENDS codes go to one
    # phone or e-mail per IDP_CODE_SENDS_WINDOW seconds.
    "IDP_CODE_RESEND_SECONDS": 60,
    "IDP_CODE_SENDS": 5,
    "IDP_CODE_SENDS_WINDOW": 3600,
    "IDP_LOCKOUT_ATTEMPTS": 5,
    "IDP_LOCKOUT_SECONDS": 900,
    # One client address failing this often (passwords and codes, any accounts) is blocked.
    "IDP_ADDRESS_ATTEMPTS": 20,
    "IDP_ADDRESS_SECONDS": 900,
    "IDP_LEVEL_CHECK_SECONDS": 5,
    # Checksum-valid but "unknown to СФР/МВД": the automatic check rejects them.
    "IDP_KNOWN_BAD_SNILS": ["111-111-111 45"],
    "IDP_KNOWN_BAD_PASSPORTS": ["4500 000000"],
    # A callable returning epoch seconds; tests pass a controllable clock.
    "IDP_CLOCK": None,
    # Cookies ignore ports: a distinct name keeps the gateway's session on 127.0.0.1 apart.
    "SESSION_COOKIE_NAME": "idp_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
}


def create_app(config: Mapping[str, t.Any] | None = None) -> Flask:
    """Build the provider app; `config` overrides the defaults (tests pass IDP_DATABASE_URL)."""
    from idp_mock import auth
    from idp_mock import cli
    from idp_mock import devtools
    from idp_mock import profile
    from idp_mock import provider
    from idp_mock import register
    from idp_mock.clock import init_clock
    from idp_mock.database import init_db
    from idp_mock.extensions import csrf
    from idp_mock.i18n import init_i18n
    from idp_mock.oauth2 import config_oauth

    app = Flask(__name__)
    _configure(app, config)
    init_clock(app, app.config["IDP_CLOCK"])

    sessions = init_db(app, app.config["IDP_DATABASE_URL"] or _default_database(app))
    config_oauth(app, _build_provider(app, sessions))
    app.extensions["idp_mock.rules"] = _account_rules(app.config)

    csrf.init_app(app)
    init_i18n(app)
    for blueprint in (provider.bp, auth.bp, register.bp, profile.bp, devtools.bp):
        app.register_blueprint(blueprint)
    cli.init_cli(app)
    app.after_request(_security_headers)
    return app


def _configure(app: Flask, config: Mapping[str, t.Any] | None) -> None:
    if config is None:
        # `flask --app idp_mock rotate-keys` builds the app bare: honour IDP_* like -m does.
        from idp_mock.__main__ import settings_from_env

        config = settings_from_env(os.environ)
        config.pop("IDP_PORT", None)
    app.config.update(DEFAULTS)
    app.config.update(config)
    issuer = str(app.config["IDP_ISSUER"])
    if issuer.endswith("/"):
        raise ValueError("IDP_ISSUER must not end with a slash: it is compared byte for byte")
    if not app.config.get("SECRET_KEY"):
        # Development stand-in only: a per-process secret signs out everyone on restart.
        app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
    ttl = int(app.config["IDP_TOKEN_TTL"])
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": ttl, "refresh_token": ttl}
    app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True


def _build_provider(app: Flask, sessions: t.Any) -> t.Any:
    from idp_mock.clients import ClientRegistry
    from idp_mock.demo import seed_demo_people
    from idp_mock.faults import FaultSwitch
    from idp_mock.keys import KeyStore
    from idp_mock.runtime import Provider
    from idp_mock.tokens import Signer

    now = int(app.extensions["idp_mock.clock"]())
    keys = KeyStore.open(sessions, now=now)
    if app.config["IDP_SEED_DEMO"]:
        with sessions() as session:
            seed_demo_people(session)
    issuer = str(app.config["IDP_ISSUER"])
    faults = FaultSwitch(enabled=bool(app.config["IDP_DEV_FAULTS"]))
    return Provider(
        issuer=issuer,
        token_ttl=int(app.config["IDP_TOKEN_TTL"]),
        refresh_ttl=int(app.config["IDP_REFRESH_TTL"]),
        keys=keys,
        clients=ClientRegistry.from_settings(app.config["IDP_CLIENTS"]),
        signer=Signer(issuer=issuer, keys=keys, faults=faults),
        faults=faults,
        backchannel_timeout=float(app.config["IDP_BACKCHANNEL_TIMEOUT"]),
    )


def _account_rules(config: Mapping[str, t.Any]) -> t.Any:
    from idp_mock.accounts import LockoutPolicy
    from idp_mock.accounts import normalize_snils
    from idp_mock.codes import CodePolicy
    from idp_mock.runtime import AccountRules
    from idp_mock.throttle import AddressPolicy

    return AccountRules(
        lockout=LockoutPolicy(
            attempts=int(config["IDP_LOCKOUT_ATTEMPTS"]), seconds=int(config["IDP_LOCKOUT_SECONDS"])
        ),
        addresses=AddressPolicy(
            attempts=int(config["IDP_ADDRESS_ATTEMPTS"]), seconds=int(config["IDP_ADDRESS_SECONDS"])
        ),
        codes=CodePolicy(
            ttl=int(config["IDP_CODE_TTL"]),
            attempts=int(config["IDP_CODE_ATTEMPTS"]),
            resend_seconds=int(config["IDP_CODE_RESEND_SECONDS"]),
            sends=int(config["IDP_CODE_SENDS"]),
            sends_window=int(config["IDP_CODE_SENDS_WINDOW"]),
        ),
        level_check_seconds=int(config["IDP_LEVEL_CHECK_SECONDS"]),
        known_bad_snils=frozenset(
            normalize_snils(value) or value for value in config["IDP_KNOWN_BAD_SNILS"]
        ),
        known_bad_passports=frozenset(
            "".join(ch for ch in value if ch.isdigit())
            for value in config["IDP_KNOWN_BAD_PASSPORTS"]
        ),
        dev_pages=bool(config["IDP_DEV_PAGES"]),
    )


def _default_database(app: Flask) -> str:
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    return f"sqlite:///{os.path.join(app.instance_path, 'idp_mock.sqlite3')}"


# Published to every relying party alike, so caches may keep them.
_PUBLIC_ENDPOINTS = frozenset({"provider.discovery", "provider.jwks"})


def _security_headers(response: Response) -> Response:
    # Login and consent must not be framed (RFC 9700 §4.16, clickjacking).
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    # Every other page names a person, shows a code or carries a form bound to a session:
    # a shared computer's cache must not keep it after sign-out.
    if request.endpoint not in _PUBLIC_ENDPOINTS:
        response.headers.setdefault("Cache-Control", "no-store")
    return response
