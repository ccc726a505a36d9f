"""The command line that runs the emulators."""

from __future__ import annotations

import pytest

from regional_mock import __main__ as cli
from regional_mock.world import World


def test_ports_follow_demo_md_unless_the_environment_says_otherwise() -> None:
    assert cli.port_of("netschool", {}) == 9103
    assert cli.port_of("netschool", {"NETSCHOOL_PORT": "9203"}) == 9203


def test_the_arguments_default_to_all_systems_on_loopback() -> None:
    args = cli.parse_args([])
    assert (args.system, args.host, args.port) == (None, "127.0.0.1", None)
    assert cli.parse_args(["--system", "netschool", "--port", "9300"]).port == 9300
    with pytest.raises(SystemExit):
        cli.parse_args(["--system", "dos"])


def test_make_app_builds_the_system_s_emulator(world: World) -> None:
    app = cli.make_app("netschool", world)
    assert app.test_client().get("/webapi/logindata").status_code == 200


def test_dnevnik_ru_registers_the_partner_redirect_uri_it_is_given(world: World) -> None:
    uri = "http://localhost:8100/children/oauth/callback"
    app = cli.make_app("dnevnik_ru", world, {"DNEVNIK_PARTNER_REDIRECT_URI": uri})
    query = {
        "response_type": "code",
        "client_id": "diary-gateway-partner",
        "redirect_uri": uri,
        "state": "s",
    }

    reply = app.test_client().get("/oauth2", query_string=query)

    assert reply.status_code == 302 and reply.location.startswith("/login/")


def test_without_the_variable_dnevnik_ru_knows_demo_md_s_gateway(world: World) -> None:
    app = cli.make_app("dnevnik_ru", world, {})
    query = {
        "response_type": "code",
        "client_id": "diary-gateway-partner",
        "redirect_uri": "http://localhost:8100/children/oauth/callback",
    }

    assert app.test_client().get("/oauth2", query_string=query).status_code == 400
