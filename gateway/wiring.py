"""Bind the extensions, blueprints and commands to an app, in a fixed order."""

from __future__ import annotations

import datetime as dt
import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field

from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client import OAuth
from babel import dates as babel_dates
from flask import Flask
from flask import Request
from flask import Response
from flask import current_app
from flask import request
from flask import session
from flask_babel import format_date
from flask_babel import format_datetime
from flask_babel import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from connectors.registry import installed_connectors
from connectors.schema import Period
from connectors.schema import Section
from gateway import redaction
from gateway import templating
from gateway.cache import Cache
from gateway.cache import cache_for
from gateway.extensions import babel
from gateway.extensions import csrf
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.extensions import login_manager
from gateway.lru import Lru
from gateway.models import ChildLink
from gateway.models import User
from gateway.services import sessions
from gateway.services.diary import DiaryService
from gateway.services.diary import Runtime
from gateway.services.fetching import Limits
from gateway.services.instances import ConnectorPool
from gateway.services.revalidation import Revalidator
from gateway.services.vault import Vault

LOCALES = ("ru", "en")


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived collaborators that views hand to the service layer."""

    vault: Vault
    pool: ConnectorPool
    cache: Cache
    idp: FlaskOAuth2App
    diary: Runtime
    # Children's cards on the family page, rendered (see family.card_key).
    cards: Lru[Markup] = field(default_factory=lambda: Lru(1024))

    @staticmethod
    def now() -> dt.datetime:
        """Return the current time; one place, so tests and services agree."""
        return dt.datetime.now(dt.UTC)


def _refresh_in_background(
    app: Flask, link_ids: list[int], sections: list[Section], period: Period
) -> None:
    """Refetch sections of some children in a database session of its own."""
    with app.app_context():
        links = list(db.session.scalars(select(ChildLink).where(ChildLink.id.in_(link_ids))))
        diary_service().read(links, sections, period, refresh=True)
        db.session.commit()


def diary_service() -> DiaryService:
    """Return a diary service bound to this request's database session (views only)."""
    svc = services()
    return DiaryService(db.session, pool=svc.pool, vault=svc.vault, runtime=svc.diary, now=svc.now)


def services() -> Services:
    """Return the current app's services (views only)."""
    return current_app.extensions["diary_gateway"]  # type: ignore[no-any-return]


def select_locale() -> str:
    """Russian first; English when the person chose it or their browser prefers it."""
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    return request.accept_languages.best_match(LOCALES, default="ru") or "ru"


def session_timeouts() -> sessions.Timeouts:
    """Return the configured idle and absolute session timeouts."""
    config = current_app.config
    return sessions.Timeouts(
        idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        absolute=dt.timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
    )


def _load_user(_request: Request) -> User | None:
    """Find the person from the cookie's session id, while that server-side session is live.

    The id is all the cookie holds: Flask-Login's own keys (user id, freshness, a hash of
    the address) are never written, since the session row already decides.
    """
    session_id = session.get("sid")
    if not session_id:
        return None
    record = sessions.current(
        db.session, str(session_id), now=Services.now(), timeouts=session_timeouts()
    )
    if db.session.dirty:  # a touch of last_seen_at, or an ending for a timeout
        db.session.commit()
    return record.user if record is not None else None


# The gateway uses none of these; a page (or an injected script) cannot ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
HSTS = "max-age=31536000; includeSubDomains"


def _refuse_large_bodies() -> None:
    """Answer 413 from the Content-Length alone: before CSRF, a view or anything reads it."""
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge


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


@functools.lru_cache(maxsize=8192)
def _formatted_date(value: dt.date, pattern: str, locale: str) -> str:
    return babel_dates.format_date(value, pattern, locale=locale)


def format_day(value: dt.date, pattern: str = "medium") -> str:
    """Format a calendar date for the interface language (dates repeat: remembered)."""
    if isinstance(value, dt.datetime):
        return format_date(value, pattern)
    return _formatted_date(value, pattern, str(get_locale()))


def section_title(section: str) -> str:
    """Name a diary section in the interface language."""
    titles = {
        "grades": _("Оценки"),
        "schedule": _("Расписание"),
        "homework": _("Домашние задания"),
        "attendance": _("Посещаемость"),
        "events": _("События"),
        "messages": _("Сообщения"),
        "rating": _("Рейтинг"),
        "family": _("Страница семьи"),
    }
    return titles.get(str(section), str(section))


def bind_extensions(app: Flask) -> None:
    """Bind every extension and the gateway's own services to ``app``."""
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # type: ignore[assignment]
    login_manager.request_loader(_load_user)
    login_manager.session_protection = None  # the server-side session does this job
    app.before_request(_refuse_large_bodies)  # first: CSRF would read the body
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
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
    app.extensions["diary_gateway"] = Services(
        vault=Vault(app.config["VAULT_KEYS"]),
        pool=ConnectorPool(classes, allow_private=app.config["ALLOW_PRIVATE_BACKENDS"]),
        cache=cache,
        idp=idp,
        diary=Runtime(
            executor=ThreadPoolExecutor(
                max_workers=app.config["FETCH_WORKERS"], thread_name_prefix="diary-fetch"
            ),
            limits=Limits(),
            fresh_for=dt.timedelta(seconds=app.config["DIARY_FRESH_SECONDS"]),
            deadline=app.config["PAGE_DEADLINE_SECONDS"],
            revalidate_within=dt.timedelta(seconds=app.config["DIARY_REVALIDATE_SECONDS"]),
            debounce=dt.timedelta(seconds=app.config["DIARY_REFRESH_DEBOUNCE_SECONDS"]),
            revalidate=Revalidator(
                functools.partial(_refresh_in_background, app),
                ThreadPoolExecutor(max_workers=2, thread_name_prefix="diary-revalidate"),
            ),
        ),
    )
    app.after_request(_security_headers)
    app.jinja_env.filters["section_title"] = section_title
    templating.register(app, pool=app.extensions["diary_gateway"].pool)
    app.jinja_env.globals.update(
        get_locale=get_locale,
        format_date=format_day,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
    )


def register_blueprints(app: Flask) -> None:
    """Register one blueprint per user-facing area."""
    from gateway.applications import bp as applications_bp
    from gateway.auth import bp as auth_bp
    from gateway.children import bp as children_bp
    from gateway.diary import bp as diary_bp
    from gateway.errors import bp as errors_bp
    from gateway.exports import bp as exports_bp
    from gateway.operator import bp as operator_bp
    from gateway.trusted import bp as trusted_bp

    for blueprint in (errors_bp, auth_bp, children_bp, diary_bp, trusted_bp, exports_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(applications_bp)
    app.register_blueprint(operator_bp)
    if not app.config["PRODUCTION"]:
        from gateway.devtools import bp as devtools_bp

        app.register_blueprint(devtools_bp)
    # Every route is known now, those with tokens too; the app's own logger names the path
    # of a request that failed ("Exception on /calendar/<token>.ics").
    redaction.install(app.url_map, (*redaction.REQUEST_LOGGERS, app.logger.name))


def register_cli(app: Flask) -> None:
    """Register the gateway's ``flask`` commands."""
    from gateway.cli import commands

    for command in commands:
        app.cli.add_command(command)
