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
