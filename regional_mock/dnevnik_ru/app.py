"""Build the Dnevnik.ru emulator's Flask app (login.dnevnik.ru and api.dnevnik.ru on one host).

Config keys (defaults in ``DEFAULTS``):

- ``DNEVNIK_CLIENTS``: partner apps, a list of ``{client_id, client_secret, redirect_uris,
  scope}`` (scope a comma string or a list); they may use the code and implicit flows.
- ``DNEVNIK_PUBLIC_CLIENTS``: apps without a secret (implicit flow only), ``{client_id,
  redirect_uris, scope}``; the community clients reuse such an app's id.
- ``DNEVNIK_MOBILE_CLIENTS``: ``{client_id, client_secret, scope}`` of the mobile API login.
- ``DNEVNIK_TOKEN_SECONDS``, ``DNEVNIK_CODE_SECONDS``: access token and code lifetimes.
- ``DNEVNIK_LOCKOUT_ATTEMPTS``, ``DNEVNIK_LOCKOUT_SECONDS``: wrong passwords before a lockout.
- ``DNEVNIK_ERROR_SPELLING`` (``short``: ``invalidToken``; ``long``:
  ``authorizationInvalidToken``) and ``DNEVNIK_ERRORS_WITH_200`` (API errors with HTTP 200);
  both can be changed live through ``/__admin/dnevnik``.
- ``DNEVNIK_LEGACY_BYCREDENTIALS``: revive ``v2/authorizations/bycredentials`` (dead since 2021).
- ``DNEVNIK_ESIA_OFFER``: after a password sign-in, show the «link Госуслуги» interstitial.
- ``DNEVNIK_CLOCK``: a monotonic clock in seconds (tests pass a fake one).
- ``DEMO_SEED``: the seed of the world built when none is given.
- ``FAULT_*`` and ``EMULATOR_ADMIN``: see ``regional_mock.faults``.
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Mapping

from flask import Flask

from regional_mock import day_admin
from regional_mock.dnevnik_ru import admin
from regional_mock.dnevnik_ru import attendance
from regional_mock.dnevnik_ru import catalog
from regional_mock.dnevnik_ru import diary
from regional_mock.dnevnik_ru import directory
from regional_mock.dnevnik_ru import oauth
from regional_mock.dnevnik_ru import tokens
from regional_mock.dnevnik_ru.state import SignInState
from regional_mock.dnevnik_ru.wire import COARSE_SCOPES
from regional_mock.dnevnik_ru.wire import Client
from regional_mock.dnevnik_ru.wire import Emulator
from regional_mock.dnevnik_ru.wire import ErrorStyle
from regional_mock.dnevnik_ru.wire import parse_scope
from regional_mock.faults import Faults
from regional_mock.faults import FaultSettings
from regional_mock.faults import install
from regional_mock.faults import new_emulator_app
from regional_mock.world import World

PARENT_SCOPE = "CommonInfo,ContactInfo,FriendsAndRelatives,EducationalInfo"
DEFAULTS: dict[str, t.Any] = {
    "DNEVNIK_CLIENTS": [
        {
            "client_id": "diary-gateway-partner",
            "client_secret": "demo-dnevnik-secret",
            "redirect_uris": ["http://127.0.0.1:8000/children/oauth/callback"],
            "scope": PARENT_SCOPE,
        }
    ],
    "DNEVNIK_PUBLIC_CLIENTS": [
        {
            "client_id": "0d6c3a52-8c1e-4f7b-9a35-d2b1e6f04c18",
            "redirect_uris": [],
            "scope": PARENT_SCOPE,
        },
        # The public app ids the community client pydnevnikruapi signs in with, so that it
        # works against the emulator unchanged: 0.1.x (2021), then 0.2.0 (2025, constants.py).
        {
            "client_id": "bb97b3e445a340b9b9cab4b9ea0dbd6f",
            "redirect_uris": [],
            "scope": PARENT_SCOPE,
        },
        {
            "client_id": "b8006d75-70a9-4291-885c-13d8511bb2ae",
            "redirect_uris": [],
            "scope": PARENT_SCOPE,
        },
    ],
    "DNEVNIK_MOBILE_CLIENTS": [
        {
            "client_id": "dnevnik-mobile-demo",
            "client_secret": "demo-mobile-secret",
            "scope": ",".join(COARSE_SCOPES),
        }
    ],
    "DNEVNIK_TOKEN_SECONDS": 31_536_000,  # the Yandex fixture's value; the real one is unknown
    "DNEVNIK_CODE_SECONDS": 600,
    "DNEVNIK_LOCKOUT_ATTEMPTS": 5,
    "DNEVNIK_LOCKOUT_SECONDS": 300,
    "DNEVNIK_ERROR_SPELLING": "short",
    "DNEVNIK_ERRORS_WITH_200": False,
    "DNEVNIK_LEGACY_BYCREDENTIALS": False,
    "DNEVNIK_ESIA_OFFER": False,
    "DNEVNIK_CLOCK": time.monotonic,
    "DEMO_SEED": 2026,
    "EMULATOR_ADMIN": True,
}
API_PREFIXES = ("/v2", "/v2.0")


def clients(entries: t.Iterable[Mapping[str, t.Any]], *, secret: bool) -> dict[str, Client]:
    """Parse client registrations; raise ``ValueError`` on a bad one."""
    rv = {}
    for entry in entries:
        raw_scope = entry.get("scope") or PARENT_SCOPE
        scope = parse_scope(raw_scope if isinstance(raw_scope, str) else ",".join(raw_scope))
        if (
            scope is None
            or not entry.get("client_id")
            or (secret and not entry.get("client_secret"))
        ):
            raise ValueError(f"bad Dnevnik.ru client registration: {entry.get('client_id')!r}")
        rv[str(entry["client_id"])] = Client(
            client_id=str(entry["client_id"]),
            client_secret=str(entry["client_secret"]) if secret else None,
            redirect_uris=tuple(entry.get("redirect_uris") or ()),
            scope=scope,
        )
    return rv


def _emulator(app: Flask, world: World) -> Emulator:
    config = app.config
    state = SignInState(
        clock=config["DNEVNIK_CLOCK"],
        token_seconds=int(config["DNEVNIK_TOKEN_SECONDS"]),
        code_seconds=int(config["DNEVNIK_CODE_SECONDS"]),
        lockout_attempts=int(config["DNEVNIK_LOCKOUT_ATTEMPTS"]),
        lockout_seconds=float(config["DNEVNIK_LOCKOUT_SECONDS"]),
    )
    errors = ErrorStyle()
    errors.update(
        spelling=str(config["DNEVNIK_ERROR_SPELLING"]),
        with_200=bool(config["DNEVNIK_ERRORS_WITH_200"]),
    )
    return Emulator(
        world=world,
        state=state,
        partners=clients(config["DNEVNIK_CLIENTS"], secret=True),
        public=clients(config["DNEVNIK_PUBLIC_CLIENTS"], secret=False),
        mobile=clients(config["DNEVNIK_MOBILE_CLIENTS"], secret=True),
        errors=errors,
        legacy_bycredentials=bool(config["DNEVNIK_LEGACY_BYCREDENTIALS"]),
        esia_offer=bool(config["DNEVNIK_ESIA_OFFER"]),
        subjects=catalog.subject_index(world),
    )


def create_app(world: World | None = None, config: Mapping[str, t.Any] | None = None) -> Flask:
    """Create the emulator over ``world`` (today's demo world when None)."""
    app, world = new_emulator_app(__name__, DEFAULTS, config, world)
    state = _emulator(app, world)
    app.extensions["dnevnik_ru"] = state
    faults = Faults(FaultSettings.from_config(app.config), seed=world.seed)
    faults.on_expire(state.state.expire_all)
    install(app, faults, prefixes=("/v1/", "/v2", "/mobile/", "/oauth2", "/login", "/esia/"))
    admin.install(app)
    day_admin.install(app, "dnevnik_ru", read=lambda: state.world, publish=state.publish)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(tokens.bp)
    for module in (directory, diary, attendance):
        for prefix in API_PREFIXES:
            name = f"{module.bp.name}{prefix.replace('/', '_').replace('.', '_')}"
            app.register_blueprint(module.bp, url_prefix=prefix, name=name)
    return app
