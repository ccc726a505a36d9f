"""Fixtures that run the real parts over loopback HTTP: idp_mock, emulators, the gateway."""

from __future__ import annotations

import socket
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from gateway.extensions import db
from gateway.runtime import services
from gateway.services.instances import load_registry_file
from gateway.settings import CONFIG_DIR
from regional_mock.world import demo_today
from tests.support.live import serving
from tests.support.live import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """Return a loopback port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def gateway_port() -> int:
    """The port the live gateway of browser tests listens on (registered at the idp)."""
    return free_port()


def idp_app(issuer: str, database_url: str, gateway_port: int, **config: t.Any) -> Flask:
    """Build idp_mock with the demo people and a client for the test gateways."""
    from idp_mock import create_app

    gateway_bases = ["http://localhost", f"http://127.0.0.1:{gateway_port}"]
    return create_app(
        {
            "IDP_ISSUER": issuer,
            "IDP_DATABASE_URL": database_url,
            "SECRET_KEY": "idp-test-secret",
            "IDP_CLIENTS": [
                {
                    "client_id": "diary-gateway",
                    "client_secret": "demo-gateway-secret",
                    "redirect_uris": [base + "/auth/callback" for base in gateway_bases],
                    "post_logout_redirect_uris": [
                        base + "/auth/logged-out" for base in gateway_bases
                    ],
                    "backchannel_logout_uri": (
                        f"http://127.0.0.1:{gateway_port}/auth/backchannel-logout"
                    ),
                    "scope": "openid profile email phone offline_access",
                    "token_endpoint_auth_method": "client_secret_basic",
                }
            ],
            **config,
        }
    )


@pytest.fixture(scope="session")
def idp_url(tmp_path_factory: pytest.TempPathFactory, gateway_port: int) -> Iterator[str]:
    """Serve idp_mock with the demo people and a client for the test gateways."""
    port = free_port()
    database = f"sqlite:///{tmp_path_factory.mktemp('idp') / 'idp.sqlite3'}"
    app = idp_app(f"http://127.0.0.1:{port}", database, gateway_port)
    with serving(RequestCounter(app), port=port) as url:
        yield url


class RequestCounter:
    """Count the requests a WSGI app receives, by path (tests read ``counts``)."""

    counts: t.ClassVar[dict[str, int]] = {}

    def __init__(self, app: t.Any) -> None:
        """Wrap ``app``."""
        self._app = app

    def __call__(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        """Count, then pass the request on."""
        path = environ.get("PATH_INFO", "")
        self.counts[path] = self.counts.get(path, 0) + 1
        return self._app(environ, start_response)


@pytest.fixture(scope="session")
def demo_world() -> t.Any:
    """Build the deterministic demo world for today."""
    from regional_mock.world import build_world

    return build_world(today=demo_today())


@pytest.fixture(scope="session")
def netschool_url(demo_world: t.Any) -> Iterator[str]:
    """Serve the NetSchool emulator over the demo world."""
    from regional_mock.netschool import create_app

    with serving(create_app(demo_world)) as url:
        yield url


@pytest.fixture
def netschool_day(netschool_url: str) -> Iterator[t.Any]:
    """The NetSchool emulator's school day (a DayClient), back to the seeded world after."""
    from regional_mock.day_client import DayClient

    day = DayClient(netschool_url)
    day.reset()
    yield day
    day.reset()


@pytest.fixture(scope="session")
def dnevnik_url(demo_world: t.Any, gateway_port: int) -> Iterator[str]:
    """Serve the Dnevnik.ru emulator, with the test gateways as its partner client."""
    from regional_mock.dnevnik_ru import create_app

    partner = {
        "client_id": "diary-gateway-partner",
        "client_secret": "demo-dnevnik-secret",
        "redirect_uris": [
            base + "/children/oauth/callback"
            for base in ("http://localhost", f"http://127.0.0.1:{gateway_port}")
        ],
        "scope": "CommonInfo,ContactInfo,FriendsAndRelatives,EducationalInfo",
    }
    with serving(create_app(demo_world, {"DNEVNIK_CLIENTS": [partner]})) as url:
        yield url


@pytest.fixture(scope="session")
def mesh_url(demo_world: t.Any) -> Iterator[str]:
    """Serve the MESH emulator over the demo world."""
    from regional_mock.mesh import create_app

    with serving(create_app(demo_world)) as url:
        yield url


def _port(url: str) -> str:
    return url.rsplit(":", 1)[1]


@pytest.fixture
def make_stack_app(
    make_app: t.Callable[..., Flask],
    idp_url: str,
    netschool_url: str,
    dnevnik_url: str,
    mesh_url: str,
) -> t.Callable[..., Flask]:
    """Build gateway apps wired to the live idp and emulators, with the demo registry."""

    def build(**overrides: t.Any) -> Flask:
        app = make_app(**{"OIDC_ISSUER": idp_url, **overrides})
        with app.app_context():
            load_registry_file(
                db.session,
                CONFIG_DIR / "connectors.toml",
                environ={
                    "NETSCHOOL_PORT": _port(netschool_url),
                    "DNEVNIK_PORT": _port(dnevnik_url),
                    "MESH_PORT": _port(mesh_url),
                },
                allow_private=True,  # the emulators listen on 127.0.0.1
                now=services().now(),
            )
            db.session.commit()
        return app

    return build


@pytest.fixture
def stack_app(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """Return a gateway app on the live stack, with CSRF on as in production."""
    return make_stack_app()


@pytest.fixture
def live_gateway(stack_app: Flask, gateway_port: int) -> Iterator[str]:
    """Serve the stack's gateway on the port registered at the idp."""
    stack_app.config["PUBLIC_URL"] = f"http://127.0.0.1:{gateway_port}"
    with serving(stack_app, port=gateway_port) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[t.Any]:
    """Launch Debian's Chromium through Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: t.Any) -> Iterator[t.Any]:
    """Open a fresh Russian-language browser context and page."""
    context = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
