"""``flask push`` commands: make a VAPID key, and show the key browsers subscribe with."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from gateway.services import push

push_group = AppGroup("push", help="Web Push (VAPID keys; see docs/operators.md).")


@push_group.command("new-key")
def new_key_command() -> None:
    """Print a fresh VAPID private key for GATEWAY_VAPID_KEY."""
    click.echo(push.new_vapid_key())


@push_group.command("public-key")
def public_key_command() -> None:
    """Print the public half of the configured VAPID key (browsers' applicationServerKey)."""
    key = current_app.config.get("VAPID_KEY")
    if not key:
        raise click.ClickException("no GATEWAY_VAPID_KEY: Web Push is off")
    click.echo(push.application_server_key(key))
