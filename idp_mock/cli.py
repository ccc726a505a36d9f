"""Add the `flask --app idp_mock` commands: rotate-keys and prune-keys."""

from __future__ import annotations

import click
from flask import Flask

from idp_mock.clock import now
from idp_mock.runtime import provider


def rotate_keys() -> str:
    """Start signing with a new key (new kid); return its kid."""
    return provider().keys.rotate(now=now())


def prune_keys() -> list[str]:
    """Drop retired keys once every token they signed has expired; return their kids."""
    state = provider()
    # ID tokens live token_ttl; logout tokens live shorter, so this bound covers both.
    return state.keys.prune(now=now(), max_token_age=state.token_ttl)


def init_cli(app: Flask) -> None:
    """Register the key commands on the app."""

    @app.cli.command("rotate-keys")
    def rotate_keys_command() -> None:
        """Add a new signing key; the old one stays published until `prune-keys`."""
        click.echo(f"now signing with kid {rotate_keys()}")

    @app.cli.command("prune-keys")
    def prune_keys_command() -> None:
        """Unpublish retired keys whose tokens have all expired."""
        kids = prune_keys()
        click.echo("pruned: " + (", ".join(kids) if kids else "nothing"))
