"""The composition root: bind the extensions, blueprints and commands to an app, in order.

Only :func:`gateway.create_app` imports this module; everything else reaches the services it
builds through :mod:`gateway.runtime`, so no blueprint ever imports its own registrar.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from authlib.integrations.flask_client import OAuth
from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from flask import session

from connectors.registry import installed_connectors
from gateway import guards
from gateway import redaction
from gateway import runtime
from gateway import templating
from gateway.applications import bp as applications_bp
from gateway.auth import bp as auth_bp
from gateway.background import init_celery
from gateway.cache import cache_for
from gateway.children import bp as children_bp
from gateway.cli import commands
from gateway.diary import bp as diary_bp
from gateway.errors import bp as errors_bp
from gateway.exports import bp as exports_bp
from gateway.extensions import babel
from gateway.extensions import csrf
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.extensions import login_manager
from gateway.notifications import bp as notifications_bp
from gateway.operator import bp as operator_bp
from gateway.pwa import bp as pwa_bp
from gateway.runtime import Services
from gateway.runtime import refresh_in_background
from gateway.services.budget import budget_from
from gateway.services.cadence import Cadence
from gateway.services.checkpoints import Signer
from gateway.services.diary import Runtime
from gateway.services.fetching import Limits
from gateway.services.instances import ConnectorPool
from gateway.services.revalidation import Revalidator
from gateway.services.sync import TickSettings
from gateway.services.vault import Vault
from gateway.transparency import bp as transparency_bp
from gateway.trusted import bp as trusted_bp

# The gateway uses none of these; a page (or an injected script) cannot ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
HSTS = "max-age=31536000; includeSubDomains"


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'; default-src 'self'")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if str(current_app.config["PUBLIC_URL"]).startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        _keep_out_of_caches(response)
    return response


def _keep_out_of_caches(response: Response) -> None:
    """Let no browser or proxy keep a page: on a shared computer, "back" would show it.

    A view may choose its own caching (a calendar feed), but never for a signed-in person
    (a session id: no database is asked, so even a failing request gets the header).
    """
    if session.get("sid") or "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def bind_extensions(app: Flask) -> None:
    """Bind every extension and the gateway's own services to ``app``."""
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # type: ignore[assignment]
    login_manager.request_loader(guards.load_user)
    login_manager.session_protection = None  # the server-side session does this job
    app.before_request(guards.refuse_large_bodies)  # first: CSRF would read the body
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=templating.select_locale)
    cache = cache_for(app.config.get("REDIS_URL"))
    oauth = OAuth(app, cache=cache)
    idp = oauth.register(
        "idp",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256"},
    )
    classes = app.config.get("CONNECTOR_CLASSES") or installed_connectors()
    budget = budget_from(
        app.config.get("REDIS_URL"),
        path=Path(app.config.get("BUDGET_FILE") or Path(app.instance_path) / "budget.sqlite3"),
        clock=runtime.clock,
        prefix=app.config["BUDGET_PREFIX"],
    )
    with open(app.config["SYNC_FILE"], "rb") as fh:
        sync_settings = tomllib.load(fh)["sync"]
    tick = TickSettings.from_mapping(sync_settings)
    app.extensions["diary_gateway"] = Services(
        vault=Vault(app.config["VAULT_KEYS"]),
        signer=Signer(app.config["LOG_ORIGIN"], app.config["LOG_KEYS"]),
        pool=ConnectorPool(
            classes,
            allow_private=app.config["ALLOW_PRIVATE_BACKENDS"],
            now=runtime.clock,
            budget=budget,
        ),
        cache=cache,
        idp=idp,
        cadence=Cadence.from_mapping(sync_settings),
        sync=tick,
        diary=Runtime(
            executor=ThreadPoolExecutor(
                max_workers=app.config["FETCH_WORKERS"], thread_name_prefix="diary-fetch"
            ),
            limits=Limits(budget=budget),
            fresh_for=dt.timedelta(seconds=app.config["DIARY_FRESH_SECONDS"]),
            deadline=app.config["PAGE_DEADLINE_SECONDS"],
            revalidate_within=dt.timedelta(seconds=app.config["DIARY_REVALIDATE_SECONDS"]),
            debounce=dt.timedelta(seconds=app.config["DIARY_REFRESH_DEBOUNCE_SECONDS"]),
            kept_by_sync_within=tick.paused_after,
            revalidate=Revalidator(
                refresh=functools.partial(refresh_in_background, app),
                executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="diary-revalidate"),
            ),
        ),
    )
    init_celery(
        app,
        tick_seconds=tick.tick.total_seconds(),
        checkpoint_seconds=app.config["LOG_CHECKPOINT_SECONDS"],
        send_seconds=app.config["NOTIFY_SEND_SECONDS"],
    )
    app.after_request(_security_headers)
    templating.register(app, pool=app.extensions["diary_gateway"].pool)


def register_blueprints(app: Flask) -> None:
    """Register one blueprint per user-facing area."""
    for blueprint in (
        errors_bp,
        auth_bp,
        children_bp,
        diary_bp,
        trusted_bp,
        exports_bp,
        transparency_bp,
        notifications_bp,
        pwa_bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(applications_bp)
    app.register_blueprint(operator_bp)
    if not app.config["PRODUCTION"]:
        # The one import left inside a function, on purpose: a production app never loads
        # the developer pages (the outbox, the emulators' fault switches) at all.
        from gateway.devtools import bp as devtools_bp

        app.register_blueprint(devtools_bp)
    # Every route is known now, those with tokens too; the app's own logger names the path
    # of a request that failed ("Exception on /calendar/<token>.ics").
    redaction.install(app.url_map, (*redaction.REQUEST_LOGGERS, app.logger.name))


def register_cli(app: Flask) -> None:
    """Register the gateway's ``flask`` commands."""
    for command in commands:
        app.cli.add_command(command)
