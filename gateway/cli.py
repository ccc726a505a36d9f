"""``flask`` commands: migrate, load the connector registry, seed the demo, rotate keys."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from gateway.database import upgrade
from gateway.extensions import db
from gateway.services.instances import load_registry_file
from gateway.services.vault import rotate_all
from gateway.wiring import services


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Bring the database schema up to date."""
    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo("database is up to date")


@click.command("load-connectors")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None)
@with_appcontext
def load_connectors_command(path: str | None) -> None:
    """Register the connector instances of a TOML file (the configured one by default)."""
    source = Path(path or current_app.config["CONNECTORS_FILE"])
    instances = load_registry_file(db.session, source, environ=os.environ)
    db.session.commit()
    for instance in instances:
        click.echo(f"{instance.key}: {instance.connector} at {instance.base_url}")


@click.command("rotate-vault")
@with_appcontext
def rotate_vault_command() -> None:
    """Re-encrypt every stored school credential with the first key of GATEWAY_VAULT_KEYS."""
    count = rotate_all(db.session, services().vault)
    db.session.commit()
    click.echo(f"re-encrypted {count} credentials")


commands = [migrate_command, load_connectors_command, rotate_vault_command]
