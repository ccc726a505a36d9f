"""Fixtures that pit our code against certified libraries: oidc-provider and openid-client."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.nodejs import ACCOUNT
from tests.interop.nodejs import STARTUP_TIMEOUT
from tests.interop.nodejs import Registration
from tests.interop.nodejs import run_script
from tests.support.live import serving
from tests.support.stack import free_port

# The test gateways' callback (make_app's PUBLIC_URL is http://localhost).
GATEWAY_CALLBACK = "http://localhost/auth/callback"


@contextlib.contextmanager
def oidc_provider_running(stderr: Path, *options: str) -> Iterator[Registration]:
    """Run provider.mjs on a free loopback port with a client for the test gateways."""
    port = free_port()
    registration = Registration(
        issuer=f"http://127.0.0.1:{port}",
        client_id="diary-gateway-interop",
        client_secret="interop-secret-" + str(port),
        redirect_uri=GATEWAY_CALLBACK,
    )
    args = [
        *("--port", str(port), "--client-id", registration.client_id),
        *("--redirect-uri", registration.redirect_uri, "--account", json.dumps(ACCOUNT)),
        *("--max-seconds", "600", *options),
    ]
    env = {"OIDC_CLIENT_SECRET": registration.client_secret}
    with run_script("provider.mjs", args, stderr=stderr, env=env) as provider:
        line = provider.read_line(timeout=STARTUP_TIMEOUT)
        assert line == "ready", f"oidc-provider did not start: {line!r}; {provider.stderr()}"
        yield registration


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registration]:
    """Run oidc-provider as configured out of the box (refresh tokens for offline_access)."""
    with oidc_provider_running(tmp_path_factory.mktemp("oidc-provider") / "stderr.log") as found:
        yield found


@pytest.fixture(scope="module")
def refreshing_oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registration]:
    """Run oidc-provider issuing a refresh token with every code, as many providers do."""
    stderr = tmp_path_factory.mktemp("oidc-provider") / "stderr.log"
    with oidc_provider_running(stderr, "--refresh-tokens", "always") as found:
        yield found


@pytest.fixture(scope="module")
def idp_for_openid_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registration]:
    """Serve a private idp_mock with a client registered for client.mjs's redirect URI."""
    from idp_mock import create_app

    port = free_port()
    # Nothing listens here: the test hands the redirect to client.mjs on stdin.
    redirect_uri = f"http://localhost:{free_port()}/callback"
    registration = Registration(
        issuer=f"http://127.0.0.1:{port}",
        client_id="openid-client-interop",
        client_secret="interop-secret-" + str(port),
        redirect_uri=redirect_uri,
    )
    app = create_app(
        {
            "IDP_ISSUER": registration.issuer,
            "IDP_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('idp') / 'idp.sqlite3'}",
            "SECRET_KEY": "idp-interop-secret",
            "IDP_DEV_FAULTS": True,
            "IDP_CLIENTS": [
                {
                    "client_id": registration.client_id,
                    "client_secret": registration.client_secret,
                    "redirect_uris": [redirect_uri],
                    "scope": "openid profile email phone offline_access",
                    "token_endpoint_auth_method": "client_secret_basic",
                }
            ],
        }
    )
    with serving(app, port=port):
        yield registration
