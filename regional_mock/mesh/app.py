"""Build the MESH emulator's Flask app: login.mos.ru, school.mos.ru and dnevnik.mos.ru paths.

Config keys (defaults in ``DEFAULTS``):

- ``MESH_POW_BITS``: leading zero bits of the headless login's proof of work (15, as mos.ru).
- ``MESH_SMS_CODE``: the code every SMS carries (DEMO.md: ``424242``).
- ``MESH_SMS_ATTEMPTS``: wrong codes allowed before ``no_attempts`` kills the sign-in.
- ``MESH_LOCKOUT_ATTEMPTS``: wrong passwords before ``pswd_method_temp_locked``.
- ``MESH_TOKEN_SECONDS``, ``MESH_REFRESH_SECONDS``, ``MESH_SSO_SECONDS``: lifetimes of the
  ``aupd_token`` (24 h), ``aupd_refresh_token`` (30 days) and the mos.ru SSO session (3 h 50 min).
- ``MESH_REQUIRE_SUBSYSTEM``: refuse ``/api/…`` calls without ``X-Mes-Subsystem`` (400).
- ``MESH_LEGACY_TRUST``: accept OctoDiary's ``trust=true`` on askToTrust (mos.ru answers 404).
- ``MESH_EXTRA_ACCOUNTS``: more logins, ``[{"login", "password", "holder", "children": [full
  names]}]`` (tests add a parent who has no right to see Артём).
- ``MESH_CLOCK``: a wall clock in epoch seconds (tests pass a fake one).
- ``DEMO_SEED``: the seed of the world built when none is given.
- ``FAULT_*`` and ``EMULATOR_ADMIN``: see ``regional_mock.faults``.
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Mapping

from flask import Flask
from flask import Response
from flask import request

from regional_mock import day_admin
from regional_mock import faults as shared_faults
from regional_mock.faults import Faults
from regional_mock.faults import FaultSettings
from regional_mock.faults import new_emulator_app
from regional_mock.mesh import family
from regional_mock.mesh import login
from regional_mock.mesh import mobile_auth
from regional_mock.mesh import outbox
from regional_mock.mesh import people
from regional_mock.mesh import progress
from regional_mock.mesh import school_auth
from regional_mock.mesh import timetable
from regional_mock.mesh.ids import MeshIds
from regional_mock.mesh.state import MeshState
from regional_mock.mesh.wire import Emulator
from regional_mock.mesh.wire import Settings
from regional_mock.mesh.wire import api_error
from regional_mock.records import Account
from regional_mock.world import World

DEFAULTS: dict[str, t.Any] = {
    "MESH_POW_BITS": 15,
    "MESH_SMS_CODE": "424242",
    "MESH_SMS_ATTEMPTS": 3,
    "MESH_LOCKOUT_ATTEMPTS": 5,
    "MESH_TOKEN_SECONDS": 24 * 3600,
    "MESH_REFRESH_SECONDS": 30 * 24 * 3600,
    "MESH_SSO_SECONDS": 3 * 3600 + 50 * 60,
    "MESH_REQUIRE_SUBSYSTEM": True,
    "MESH_LEGACY_TRUST": False,
    "MESH_EXTRA_ACCOUNTS": (),
    "MESH_CLOCK": time.time,
    "DEMO_SEED": 2026,
    "EMULATOR_ADMIN": True,
}
FAULTY = ("/sps/", "/v1/", "/v2/", "/v3/", "/api/", "/lms/", "/acl/", "/core/", "/ej/")
MAINTENANCE_PAGE = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Технические работы</title></head>
<body><h1>Технические работы</h1>
<p>Московская электронная школа временно недоступна: идут технические работы.
Попробуйте зайти позже.</p></body></html>
"""


def _settings(config: Mapping[str, t.Any]) -> Settings:
    return Settings(
        pow_bits=int(config["MESH_POW_BITS"]),
        sms_code=str(config["MESH_SMS_CODE"]),
        sms_attempts=int(config["MESH_SMS_ATTEMPTS"]),
        lockout_attempts=int(config["MESH_LOCKOUT_ATTEMPTS"]),
        token_seconds=float(config["MESH_TOKEN_SECONDS"]),
        refresh_seconds=float(config["MESH_REFRESH_SECONDS"]),
        sso_seconds=float(config["MESH_SSO_SECONDS"]),
        require_subsystem=bool(config["MESH_REQUIRE_SUBSYSTEM"]),
        legacy_trust=bool(config["MESH_LEGACY_TRUST"]),
    )


def _accounts(world: World, extra: t.Iterable[Mapping[str, t.Any]]) -> tuple[Account, ...]:
    accounts = list(world.accounts_for("mesh"))
    for number, item in enumerate(extra, start=1):
        children = tuple(world.student_by_name(name).id for name in item.get("children", ()))
        accounts.append(
            Account(
                system="mesh",
                login=str(item["login"]),
                password=str(item["password"]),
                student_ids=children,
                id=7_790_000 + number,
                holder=str(item.get("holder", "")),
            )
        )
    return tuple(accounts)


def create_app(world: World | None = None, config: Mapping[str, t.Any] | None = None) -> Flask:
    """Create the emulator over ``world`` (today's demo world when None)."""
    app, world = new_emulator_app(__name__, DEFAULTS, config, world)
    state = MeshState(clock=app.config["MESH_CLOCK"])
    app.extensions["mesh"] = em = Emulator(
        world=world,
        ids=MeshIds(world),
        state=state,
        settings=_settings(app.config),
        accounts=_accounts(world, app.config["MESH_EXTRA_ACCOUNTS"]),
    )
    faults = Faults(FaultSettings.from_config(app.config), seed=world.seed)
    faults.on_expire(state.expire_all)
    shared_faults.install(app, faults, prefixes=FAULTY, maintenance_page=MAINTENANCE_PAGE)
    day_admin.install(app, "mesh", read=lambda: em.world, publish=em.publish)
    if app.config.get("EMULATOR_ADMIN", True):
        app.register_blueprint(outbox.admin)
    for module in (login, mobile_auth, school_auth, people, family, timetable, progress):
        app.register_blueprint(module.bp)
    app.register_blueprint(outbox.bp)
    app.register_error_handler(404, _not_found)
    return app


def _not_found(error: Exception) -> Response | Exception:
    """Answer unknown API paths with the API's JSON error body, other paths as Flask does."""
    if request.path.startswith(("/api/", "/acl/", "/lms/", "/core/")):
        return api_error(404, "Ресурс не найден")
    return error
