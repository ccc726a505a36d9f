"""An OpenID provider standing in for Gosuslugi/ESIA and mos.ru."""

from __future__ import annotations

import os
import secrets
import typing as t
from collections.abc import Mapping

from flask import Flask
from flask import Response

from idp_mock.clients import DEMO_CLIENT

DEFAULTS: dict[str, t.Any] = {
    "IDP_ISSUER": "http://127.0.0.1:9000",
    "IDP_DATABASE_URL": None,
    "IDP_CLIENTS": [DEMO_CLIENT],
    "IDP_SEED_DEMO": True,
    "IDP_TOKEN_TTL": 3600,
    # Cookies ignore ports: a distinct name keeps the gateway's session on 127.0.0.1 apart.
    "SESSION_COOKIE_NAME": "idp_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
}


def create_app(config: Mapping[str, t.Any] | None = None) -> Flask:
    """Build the provider app; `config` overrides the defaults (tests pass IDP_DATABASE_URL)."""
    from idp_mock import auth
    from idp_mock import provider
    from idp_mock.clients import ClientRegistry
    from idp_mock.database import init_db
    from idp_mock.demo import seed_demo_people
    from idp_mock.extensions import csrf
    from idp_mock.keys import KeyStore
    from idp_mock.oauth2 import Provider
    from idp_mock.oauth2 import config_oauth

    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    issuer = str(app.config["IDP_ISSUER"])
    if issuer.endswith("/"):
        raise ValueError("IDP_ISSUER must not end with a slash: it is compared byte for byte")
    if not app.config.get("SECRET_KEY"):
        # Development stand-in only: a per-process secret signs out everyone on restart.
        app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
    ttl = int(app.config["IDP_TOKEN_TTL"])
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": ttl}

    sessions = init_db(app, app.config["IDP_DATABASE_URL"] or _default_database(app))
    with sessions() as session:
        keys = KeyStore.load_or_create(session)
        if app.config["IDP_SEED_DEMO"]:
            seed_demo_people(session)
    clients = ClientRegistry.from_settings(app.config["IDP_CLIENTS"])
    config_oauth(app, Provider(issuer=issuer, token_ttl=ttl, keys=keys, clients=clients))

    csrf.init_app(app)
    app.register_blueprint(provider.bp)
    app.register_blueprint(auth.bp)
    app.after_request(_forbid_framing)
    return app


def _default_database(app: Flask) -> str:
    os.makedirs(app.instance_path, exist_ok=True)
    return f"sqlite:///{os.path.join(app.instance_path, 'idp_mock.sqlite3')}"


def _forbid_framing(response: Response) -> Response:
    # Login and consent must not be framed (RFC 9700 §4.16, clickjacking).
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
