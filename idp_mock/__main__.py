"""Run the provider (python -m idp_mock --port 9000) or rotate-keys / prune-keys."""

from __future__ import annotations

import argparse
import os
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from werkzeug.serving import run_simple

from idp_mock import create_app
from idp_mock.clients import demo_client

# Whole-number policies a developer may tune for the demo (see create_app's DEFAULTS).
NUMERIC_SETTINGS = (
    "IDP_LOCKOUT_ATTEMPTS",
    "IDP_LOCKOUT_SECONDS",
    "IDP_ADDRESS_ATTEMPTS",
    "IDP_ADDRESS_SECONDS",
    "IDP_CODE_RESEND_SECONDS",
    "IDP_CODE_SENDS",
    "IDP_CODE_SENDS_WINDOW",
)


# The demo client follows the gateway it is launched with (scripts/run_demo.py sets these).
DEMO_CLIENT_SETTINGS = {
    "base_url": "IDP_DEMO_CLIENT_URL",
    "client_id": "IDP_DEMO_CLIENT_ID",
    "client_secret": "IDP_DEMO_CLIENT_SECRET",
}


def settings_from_env(environ: Mapping[str, str]) -> dict[str, t.Any]:
    """Read the IDP_* environment variables the command line honours.

    Raises:
        SystemExit: when a numeric setting is not a whole number.
    """
    settings: dict[str, t.Any] = {}
    for name in NUMERIC_SETTINGS:
        if value := environ.get(name):
            if not value.strip().isdigit():
                raise SystemExit(f"{name} must be a whole number of attempts or seconds")
            settings[name] = int(value)
    if issuer := environ.get("IDP_ISSUER"):
        settings["IDP_ISSUER"] = issuer
    if url := environ.get("IDP_DATABASE_URL"):
        settings["IDP_DATABASE_URL"] = url
    if secret := environ.get("IDP_SECRET_KEY"):
        settings["SECRET_KEY"] = secret
    if port := environ.get("IDP_PORT"):
        settings["IDP_PORT"] = int(port)
    client = {
        keyword: environ[variable]
        for keyword, variable in DEMO_CLIENT_SETTINGS.items()
        if environ.get(variable)
    }
    if client:
        settings["IDP_CLIENTS"] = [demo_client(**client)]
    return settings


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve the provider until interrupted."""
    settings = settings_from_env(os.environ)
    parser = argparse.ArgumentParser(prog="python -m idp_mock", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.pop("IDP_PORT", 9000))
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "rotate-keys", "prune-keys"]
    )
    args = parser.parse_args(argv)
    if "IDP_ISSUER" not in settings:
        settings["IDP_ISSUER"] = f"http://{args.host}:{args.port}"
    app = create_app(settings)
    if args.command == "serve":
        run_simple(args.host, args.port, app, threaded=True)
        return
    from idp_mock import cli

    with app.app_context():
        if args.command == "rotate-keys":
            print(f"now signing with kid {cli.rotate_keys()}")
        else:
            print("pruned: " + (", ".join(cli.prune_keys()) or "nothing"))


if __name__ == "__main__":
    main()
