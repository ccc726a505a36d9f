"""Fault injection and request statistics shared by every regional emulator.

Settings come from the app config (``FAULT_LATENCY_MS``, ``FAULT_MODE``, ``FAULT_ERROR_RATE``,
``FAULT_MAINTENANCE_STATUS``) and can be changed at run time through the development admin
endpoints (enabled unless ``EMULATOR_ADMIN`` is false):

- ``GET /__admin/faults`` returns the current faults; ``POST`` with JSON ``{"latency_ms": int,
  "mode": null | "5xx" | "maintenance" | "malformed_json" | "429", "error_rate": float,
  "maintenance_status": 503 | 200, "expire_sessions": bool}`` changes the keys given
  (``expire_sessions`` is an action: it ends every current session); ``DELETE`` clears them.
- ``GET /__admin/stats`` returns request counts per ``"METHOD /path"``;
  ``POST /__admin/stats/reset`` zeroes them, the budget and the concurrency figures.
- ``GET /__admin/budget`` returns ``{"total": int, "peak_per_minute": int, "window_seconds":
  60}``: the requests counted since the last reset, and the most of them that arrived within
  any 60 seconds (a backend's requests-per-minute budget is checked against it).
- ``GET /__admin/concurrency`` returns ``{"in_flight": int, "most_at_once": int}``: requests
  being answered now, and the most answered at the same time since the last reset (a
  client's per-backend limit is checked against it).
"""

from __future__ import annotations

import random
import threading
import time
import typing as t
from collections import Counter
from collections import deque
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import replace

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import jsonify
from flask import request

from regional_mock.world import World
from regional_mock.world import build_world
from regional_mock.world import demo_today

BUDGET_WINDOW_SECONDS = 60
MODES = (None, "5xx", "maintenance", "malformed_json", "429")
MAINTENANCE_PAGE = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Технические работы</title></head>
<body><h1>Технические работы</h1>
<p>Сетевой Город. Образование временно недоступен: идут технические работы.
Попробуйте зайти позже.</p></body></html>
"""
# A JSON body cut off mid-way, as a proxy dropping the connection would leave it.
MALFORMED_JSON = '{"message": "An error has occ'


@dataclass(frozen=True)
class FaultSettings:
    """What to do to each emulated API request."""

    latency_ms: int = 0
    mode: str | None = None
    error_rate: float = 0.0
    maintenance_status: int = 503

    def __post_init__(self) -> None:
        """Reject settings the emulator cannot apply."""
        if self.mode not in MODES:
            raise ValueError(f"unknown fault mode {self.mode!r}")
        if not isinstance(self.latency_ms, int) or self.latency_ms < 0:
            raise ValueError("latency_ms must be a non-negative integer")
        if not 0.0 <= float(self.error_rate) <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if self.maintenance_status not in (200, 503):
            raise ValueError("maintenance_status must be 200 or 503")

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> FaultSettings:
        """Read the ``FAULT_*`` keys of an app config."""
        return cls(
            latency_ms=int(config.get("FAULT_LATENCY_MS", 0)),
            mode=config.get("FAULT_MODE") or None,
            error_rate=float(config.get("FAULT_ERROR_RATE", 0.0)),
            maintenance_status=int(config.get("FAULT_MAINTENANCE_STATUS", 503)),
        )


class Faults:
    """Thread-safe fault settings, session expiry hooks and request counts of one emulator."""

    def __init__(
        self,
        defaults: FaultSettings,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start from ``defaults``; ``seed`` drives the random error rate.

        ``clock`` (seconds) times requests for the per-minute budget figures.
        """
        self._lock = threading.Lock()
        self._defaults = defaults
        self._settings = defaults
        self._stats: Counter[str] = Counter()
        self._in_flight = 0
        self._most_at_once = 0
        self._expirers: list[Callable[[], int]] = []
        self._rng = random.Random(seed)
        self._clock = clock
        self._arrivals: deque[float] = deque()
        self._peak_per_minute = 0

    @property
    def settings(self) -> FaultSettings:
        """Return the current settings."""
        with self._lock:
            return self._settings

    def update(self, **changes: t.Any) -> FaultSettings:
        """Change some settings; raise ``ValueError`` on a bad value."""
        with self._lock:
            self._settings = replace(self._settings, **changes)
            return self._settings

    def clear(self) -> FaultSettings:
        """Remove every fault, including the configured ones."""
        with self._lock:
            self._settings = FaultSettings()
            return self._settings

    def on_expire(self, callback: Callable[[], int]) -> None:
        """Register a callable that ends all sessions and returns how many it ended."""
        self._expirers.append(callback)

    def expire_sessions(self) -> int:
        """End every session of the emulator; return how many ended."""
        return sum(callback() for callback in self._expirers)

    def count(self, key: str) -> None:
        """Count one request."""
        now = self._clock()
        with self._lock:
            self._stats[key] += 1
            # Keep the arrivals of the last window: the window ending at each arrival is
            # the only one that can hold a new peak.
            self._arrivals.append(now)
            while self._arrivals[0] <= now - BUDGET_WINDOW_SECONDS:
                self._arrivals.popleft()
            self._peak_per_minute = max(self._peak_per_minute, len(self._arrivals))

    def stats(self) -> dict[str, int]:
        """Return the request counts."""
        with self._lock:
            return dict(self._stats)

    def budget(self) -> dict[str, int]:
        """Return the requests counted and the most within any 60 seconds, since the reset."""
        with self._lock:
            return {
                "total": sum(self._stats.values()),
                "peak_per_minute": self._peak_per_minute,
                "window_seconds": BUDGET_WINDOW_SECONDS,
            }

    def started(self) -> None:
        """Note a request being answered from now on."""
        with self._lock:
            self._in_flight += 1
            self._most_at_once = max(self._most_at_once, self._in_flight)

    def finished(self) -> None:
        """Note that a request was answered."""
        with self._lock:
            self._in_flight -= 1

    def concurrency(self) -> dict[str, int]:
        """Return the requests in flight and the most there were at once."""
        with self._lock:
            return {"in_flight": self._in_flight, "most_at_once": self._most_at_once}

    def reset_stats(self) -> None:
        """Zero the request counts and the most requests seen at once."""
        with self._lock:
            self._stats.clear()
            self._most_at_once = self._in_flight
            self._arrivals.clear()
            self._peak_per_minute = 0

    def failure(self) -> Response | None:
        """Sleep the configured latency, then return the fault response, if any."""
        settings = self.settings
        if settings.latency_ms:
            time.sleep(settings.latency_ms / 1000)
        mode = settings.mode
        if mode is None and settings.error_rate:
            with self._lock:
                if self._rng.random() < settings.error_rate:
                    mode = "5xx"
        return _fault_response(mode, settings)


def _fault_response(mode: str | None, settings: FaultSettings) -> Response | None:
    if mode == "5xx":
        return Response('{"message":"An error has occurred."}', 503, mimetype="application/json")
    if mode == "maintenance":
        return Response(
            MAINTENANCE_PAGE, settings.maintenance_status, content_type="text/html; charset=utf-8"
        )
    if mode == "malformed_json":
        return Response(MALFORMED_JSON, 200, mimetype="application/json")
    if mode == "429":
        return Response(
            '{"message":"Too Many Requests"}',
            429,
            mimetype="application/json",
            headers={"Retry-After": "30"},
        )
    return None


def install(
    app: Flask,
    faults: Faults,
    *,
    prefixes: tuple[str, ...],
    maintenance_page: str | None = None,
) -> None:
    """Count every request and apply faults to those under ``prefixes``.

    ``maintenance_page`` replaces the generic one for systems whose own page is known.
    """
    app.extensions["faults"] = faults

    @app.before_request
    def _apply_faults() -> Response | None:
        if request.path.startswith("/__admin"):
            return None
        faults.count(f"{request.method} {request.path}")
        faults.started()
        g.counted_in_flight = True
        if not request.path.startswith(prefixes):
            return None
        response = faults.failure()
        if maintenance_page and response is not None and response.mimetype == "text/html":
            response.set_data(maintenance_page)
        return response

    @app.teardown_request
    def _answered(_: BaseException | None) -> None:
        if g.pop("counted_in_flight", False):
            faults.finished()

    if app.config.get("EMULATOR_ADMIN", True):
        app.register_blueprint(admin)


admin = Blueprint("emulator_admin", __name__, url_prefix="/__admin")


def _faults() -> Faults:
    return t.cast(Faults, current_app.extensions["faults"])


@admin.get("/faults")
def show_faults() -> Response:
    """Return the current faults."""
    return jsonify(asdict(_faults().settings))


@admin.post("/faults")
def set_faults() -> tuple[Response, int] | Response:
    """Change the faults given in the JSON body; ``expire_sessions`` ends all sessions."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="expected a JSON object"), 400
    expire = bool(body.pop("expire_sessions", False))
    unknown = set(body) - {"latency_ms", "mode", "error_rate", "maintenance_status"}
    if unknown:
        return jsonify(error=f"unknown keys: {sorted(unknown)}"), 400
    try:
        settings = _faults().update(**body)
    except (TypeError, ValueError) as err:
        return jsonify(error=str(err)), 400
    expired = _faults().expire_sessions() if expire else 0
    return jsonify(**asdict(settings), expired_sessions=expired)


@admin.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault."""
    return jsonify(asdict(_faults().clear()))


@admin.get("/stats")
def show_stats() -> Response:
    """Return request counts per method and path."""
    return jsonify(_faults().stats())


@admin.get("/budget")
def show_budget() -> Response:
    """Return the requests since the last reset and the most within any 60 seconds."""
    return jsonify(_faults().budget())


@admin.get("/concurrency")
def show_concurrency() -> Response:
    """Return the requests in flight and the most answered at once since the last reset."""
    return jsonify(_faults().concurrency())


@admin.post("/stats/reset")
def reset_stats() -> Response:
    """Zero the request counts, the budget figures and the most requests seen at once."""
    _faults().reset_stats()
    return jsonify({})


def new_emulator_app(
    name: str,
    defaults: Mapping[str, t.Any],
    config: Mapping[str, t.Any] | None,
    world: World | None,
) -> tuple[Flask, World]:
    """Start an emulator's Flask app: defaults, then ``config``, JSON as the systems send it.

    Returns the app and the world it serves (today's demo world when ``world`` is None).
    """
    app = Flask(name)
    app.config.from_mapping(defaults)
    if config:
        app.config.from_mapping(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if world is None:
        world = build_world(today=demo_today(), seed=int(app.config["DEMO_SEED"]))
    return app, world
