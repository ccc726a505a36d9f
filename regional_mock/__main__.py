"""Run the regional emulators: ``python -m regional_mock [--system netschool] [--port 9103]``."""

from __future__ import annotations

import argparse
import importlib
import os
import threading
import typing as t
from collections.abc import Sequence

from werkzeug.serving import run_simple

from regional_mock.world import World
from regional_mock.world import build_world
from regional_mock.world import demo_today

# system -> (module with create_app, port variable, default port per DEMO.md)
SYSTEMS: dict[str, tuple[str, str, int]] = {
    "mesh": ("regional_mock.mesh", "MESH_PORT", 9101),
    "dnevnik_ru": ("regional_mock.dnevnik_ru", "DNEVNIK_PORT", 9102),
    "netschool": ("regional_mock.netschool", "NETSCHOOL_PORT", 9103),
}


def port_of(system: str, environ: t.Mapping[str, str]) -> int:
    """Return a system's port: its environment variable, else the DEMO.md default."""
    _, variable, default = SYSTEMS[system]
    return int(environ.get(variable) or default)


def dnevnik_settings(environ: t.Mapping[str, str]) -> dict[str, t.Any]:
    """Register the partner app's redirect URI at the gateway the demo runs."""
    uri = environ.get("DNEVNIK_PARTNER_REDIRECT_URI")
    if not uri:
        return {}
    from regional_mock.dnevnik_ru.app import DEFAULTS

    partner = {**DEFAULTS["DNEVNIK_CLIENTS"][0], "redirect_uris": [uri]}
    return {"DNEVNIK_CLIENTS": [partner]}


# system -> the emulator settings its environment variables give.
SETTINGS_FROM_ENV: dict[str, t.Callable[[t.Mapping[str, str]], dict[str, t.Any]]] = {
    "dnevnik_ru": dnevnik_settings,
}


def make_app(system: str, world: World, environ: t.Mapping[str, str] | None = None) -> t.Any:
    """Import a system's emulator and build its app over ``world``."""
    module = importlib.import_module(SYSTEMS[system][0])
    settings = SETTINGS_FROM_ENV.get(system, lambda _: {})(environ or {})
    return module.create_app(world, settings)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m regional_mock", description=__doc__)
    parser.add_argument("--system", choices=sorted(SYSTEMS), help="one system (default: all)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="port of --system (default: per DEMO.md)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, environ: t.Mapping[str, str] | None = None) -> None:
    """Build today's world from ``DEMO_SEED`` and serve the chosen emulators."""
    args = parse_args(argv)
    environ = os.environ if environ is None else environ
    world = build_world(today=demo_today(), seed=int(environ.get("DEMO_SEED") or 2026))
    systems = [args.system] if args.system else sorted(SYSTEMS)
    if args.port is not None and len(systems) > 1:
        raise SystemExit("--port needs --system when several emulators run")
    threads = []
    for system in systems:
        port = args.port if args.port is not None else port_of(system, environ)
        app = make_app(system, world, environ)
        print(f"regional_mock: {system} on http://{args.host}:{port}", flush=True)
        if app.config.get("EMULATOR_ADMIN", True):
            page = f"http://{args.host}:{port}/__admin/day/page"
            print(f"regional_mock: {system} school day page {page}", flush=True)
        thread = threading.Thread(
            target=run_simple,
            args=(args.host, port, app),
            kwargs={"threaded": True},
            name=system,
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
