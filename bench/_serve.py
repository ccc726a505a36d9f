"""Serve one part of the benchmark's stack in its own process, on a chosen loopback port.

``python -m bench._serve <part> --port P --gateway http://127.0.0.1:G [--issuer URL]``
where ``part`` is ``gateway``, ``idp``, ``mesh``, ``dnevnik_ru`` or ``netschool``.

The demo entry points (``python -m idp_mock``, ``python -m regional_mock``) register the
gateway's redirect URIs for port 8000 only; this launcher registers them for the port the
benchmark chose, the way ``tests/support/stack.py`` does, so the benchmark never needs the
demo ports to be free. Request logging is off: it would cost the gateway CPU per request.
"""

from __future__ import annotations

import argparse
import logging
import os
import typing as t

from werkzeug.serving import run_simple


def idp_app(args: argparse.Namespace) -> t.Any:
    """Build idp_mock with the demo people and a client for the benchmark's gateway."""
    from idp_mock import create_app

    gateway = args.gateway
    return create_app(
        {
            "IDP_ISSUER": args.issuer,
            "IDP_DATABASE_URL": os.environ["IDP_DATABASE_URL"],
            "SECRET_KEY": "bench-idp-secret",
            "IDP_CLIENTS": [
                {
                    "client_id": "diary-gateway",
                    "client_secret": "demo-gateway-secret",
                    "redirect_uris": [gateway + "/auth/callback"],
                    "post_logout_redirect_uris": [gateway + "/auth/logged-out"],
                    "backchannel_logout_uri": gateway + "/auth/backchannel-logout",
                    "scope": "openid profile email phone offline_access",
                    "token_endpoint_auth_method": "client_secret_basic",
                }
            ],
        }
    )


def emulator_app(system: str, args: argparse.Namespace) -> t.Any:
    """Build one regional emulator over today's demo world."""
    from regional_mock.world import build_world
    from regional_mock.world import demo_today

    world = build_world(today=demo_today(), seed=int(os.environ.get("DEMO_SEED") or 2026))
    if system == "dnevnik_ru":
        from regional_mock.dnevnik_ru import create_app as dnevnik

        partner = {
            "client_id": "diary-gateway-partner",
            "client_secret": "demo-dnevnik-secret",
            "redirect_uris": [args.gateway + "/children/oauth/callback"],
            "scope": "CommonInfo,ContactInfo,FriendsAndRelatives,EducationalInfo",
        }
        return dnevnik(world, {"DNEVNIK_CLIENTS": [partner]})
    if system == "mesh":
        from regional_mock.mesh import create_app as mesh

        return mesh(world)
    from regional_mock.netschool import create_app as netschool

    return netschool(world)


def main() -> None:
    """Parse the command line and serve until terminated."""
    parser = argparse.ArgumentParser(prog="python -m bench._serve")
    parser.add_argument("part", choices=["gateway", "idp", "mesh", "dnevnik_ru", "netschool"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--gateway", required=True, help="the gateway's public URL")
    parser.add_argument("--issuer", help="the idp's issuer URL (idp only)")
    args = parser.parse_args()
    if args.part == "gateway":
        from gateway import create_app

        app = create_app()  # DATABASE_URL, GATEWAY_* come from the environment
    elif args.part == "idp":
        app = idp_app(args)
    else:
        app = emulator_app(args.part, args)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        run_simple("127.0.0.1", args.port, app, threaded=True)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
