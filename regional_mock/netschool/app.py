"""Build the NetSchool («Сетевой город. Образование») emulator's Flask app.

Config keys (defaults in ``DEFAULTS``):

- ``NETSCHOOL_SESSION_TIMEOUT_MS``: idle timeout of a web session, echoed as ``timeOut``.
- ``NETSCHOOL_DIARY_ZERO_WEIGHTS``: serve weight 0 in the diary (2019–2023 servers); the
  ``assigns/{id}`` card keeps the real weight.
- ``NETSCHOOL_MOBILE_CLIENT_SECRET``: the ``parent-mobile`` client secret of ``/connect/token``.
- ``NETSCHOOL_OPERATOR_API_KEY``: the regional operator's key of the operator-side API
  (roster, issuing logins; see ``regional_mock.netschool.admin``); empty turns it off.
- ``NETSCHOOL_LOCKOUT_ATTEMPTS``, ``NETSCHOOL_LOCKOUT_SECONDS``: failed logins before the
  lockout, and its length.
- ``NETSCHOOL_CLOCK``: a monotonic clock in seconds (tests pass a fake one).
- ``DEMO_SEED``: the seed of the world built when none is given.
- ``FAULT_*`` and ``EMULATOR_ADMIN``: see ``regional_mock.faults``.
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Mapping

from flask import Flask

from regional_mock import day_admin
from regional_mock.faults import Faults
from regional_mock.faults import FaultSettings
from regional_mock.faults import install
from regional_mock.faults import new_emulator_app
from regional_mock.netschool import admin
from regional_mock.netschool import auth
from regional_mock.netschool import diary
from regional_mock.netschool import mobile
from regional_mock.netschool.sessions import SignInState
from regional_mock.netschool.wire import Emulator
from regional_mock.world import World

DEFAULTS: dict[str, t.Any] = {
    "NETSCHOOL_SESSION_TIMEOUT_MS": 3_600_000,
    "NETSCHOOL_DIARY_ZERO_WEIGHTS": False,
    "NETSCHOOL_MOBILE_CLIENT_SECRET": "demo-mobile-secret",
    "NETSCHOOL_OPERATOR_API_KEY": "demo-operator-key",
    "NETSCHOOL_LOCKOUT_ATTEMPTS": 3,
    "NETSCHOOL_LOCKOUT_SECONDS": 60,
    "NETSCHOOL_CLOCK": time.monotonic,
    "DEMO_SEED": 2026,
    "EMULATOR_ADMIN": True,
    "JSON_AS_ASCII": False,
}


def create_app(world: World | None = None, config: Mapping[str, t.Any] | None = None) -> Flask:
    """Create the emulator over ``world`` (today's demo world when None)."""
    app, world = new_emulator_app(__name__, DEFAULTS, config, world)
    state = SignInState(
        timeout_ms=int(app.config["NETSCHOOL_SESSION_TIMEOUT_MS"]),
        clock=app.config["NETSCHOOL_CLOCK"],
        lockout_attempts=int(app.config["NETSCHOOL_LOCKOUT_ATTEMPTS"]),
        lockout_seconds=float(app.config["NETSCHOOL_LOCKOUT_SECONDS"]),
    )
    app.extensions["netschool"] = em = Emulator(
        world=world,
        state=state,
        zero_weights=bool(app.config["NETSCHOOL_DIARY_ZERO_WEIGHTS"]),
        mobile_client_secret=str(app.config["NETSCHOOL_MOBILE_CLIENT_SECRET"]),
    )
    faults = Faults(FaultSettings.from_config(app.config), seed=world.seed)
    faults.on_expire(state.expire_all)
    install(app, faults, prefixes=("/webapi/", "/api/mobile/"))
    day_admin.install(app, "netschool", read=lambda: em.world, publish=em.publish)
    app.register_blueprint(auth.bp)
    app.register_blueprint(diary.bp)
    app.register_blueprint(mobile.bp)
    if app.config["EMULATOR_ADMIN"]:
        app.register_blueprint(admin.bp)
    return app
