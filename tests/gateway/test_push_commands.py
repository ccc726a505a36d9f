"""``flask push``: a new VAPID key is one the gateway starts with, and its public half is
what the preferences page hands browsers."""

from __future__ import annotations

import typing as t

from flask import Flask

from gateway.services import push


def test_a_new_key_configured_is_the_one_browsers_subscribe_with(
    make_app: t.Callable[..., Flask],
) -> None:
    fresh = make_app().test_cli_runner().invoke(args=["push", "new-key"]).output.strip()
    app = make_app(VAPID_KEY=fresh)
    shown = app.test_cli_runner().invoke(args=["push", "public-key"])
    assert shown.exit_code == 0
    assert shown.output.strip() == push.application_server_key(fresh)
    assert len(push._b64decode(shown.output.strip())) == 65  # an uncompressed P-256 point


def test_without_a_key_the_public_key_command_says_push_is_off(
    make_app: t.Callable[..., Flask],
) -> None:
    app = make_app()
    app.config["VAPID_KEY"] = None
    shown = app.test_cli_runner().invoke(args=["push", "public-key"])
    assert shown.exit_code == 1 and "no GATEWAY_VAPID_KEY: Web Push is off" in shown.output
