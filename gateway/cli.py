"""``flask`` commands: migrate, the connector registry, and vault key rotation."""

from __future__ import annotations

import datetime as dt
import json
import os
import typing as t
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask.cli import with_appcontext

from connectors.base import ConfirmsSecondFactor
from connectors.base import Credentials
from connectors.base import sections_of
from connectors.errors import ConnectorError
from connectors.errors import SecondFactorRequired
from gateway.database import upgrade
from gateway.extensions import db
from gateway.models import RoleKind
from gateway.services import applications
from gateway.services import roles
from gateway.services.instances import InstanceError
from gateway.services.instances import all_instances
from gateway.services.instances import instance_by_key
from gateway.services.instances import load_registry_file
from gateway.services.instances import register_instance
from gateway.services.vault import rotate_all
from gateway.wiring import services


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Bring the database schema up to date."""
    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo("database is up to date")


@click.command("rotate-vault")
@with_appcontext
def rotate_vault_command() -> None:
    """Re-encrypt every stored school credential with the first key of GATEWAY_VAULT_KEYS."""
    count = rotate_all(db.session, services().vault)
    db.session.commit()
    click.echo(f"re-encrypted {count} credentials")


connectors_group = AppGroup("connectors", help="Connector instances that regional operators run.")


@connectors_group.command("load")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None)
def load_command(path: str | None) -> None:
    """Register the instances of a TOML file (the configured registry by default)."""
    source = Path(path or current_app.config["CONNECTORS_FILE"])
    for instance in load_registry_file(db.session, source, environ=os.environ):
        click.echo(f"{instance.key}: {instance.connector} at {instance.base_url}")
    db.session.commit()


@connectors_group.command("list")
def list_command() -> None:
    """List the registered instances."""
    for instance in all_instances(db.session):
        state = "enabled" if instance.enabled else "disabled"
        click.echo(
            f"{instance.key}\t{instance.region_code} {instance.region_name}\t"
            f"{instance.connector}\t{instance.base_url}\t{state}"
        )


@connectors_group.command("add")
@click.option("--key", required=True, help="A short unique name, e.g. samara-netschool.")
@click.option("--region-code", required=True)
@click.option("--region-name", required=True)
@click.option("--connector", "connector_name", required=True, help="An installed connector type.")
@click.option("--base-url", required=True)
@click.option("--setting", "settings", multiple=True, metavar="NAME=VALUE")
@click.option("--timezone", default="Europe/Moscow", show_default=True)
@click.option("--concurrency-limit", default=8, show_default=True, type=int)
def add_command(settings: tuple[str, ...], connector_name: str, **fields: str | int) -> None:
    """Register a connector instance; the connector validates its settings first."""
    parsed = dict(_setting(item) for item in settings)
    try:
        instance = register_instance(
            db.session, services().pool, connector=connector_name, settings=parsed, **fields
        )
    except InstanceError as err:
        raise click.ClickException(str(err)) from err
    db.session.commit()
    click.echo(f"registered {instance.key}")


def _setting(item: str) -> tuple[str, t.Any]:
    """Split NAME=VALUE; the value is JSON when it parses (numbers, booleans), else text."""
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--setting")
    try:
        return name.strip(), json.loads(value)
    except ValueError:
        return name.strip(), value


@connectors_group.command("check")
@click.argument("key")
@click.option("--login", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--school", default=None)
@click.option("--code", default=None, help="A one-time code, if the system asks for one.")
def check_command(
    key: str, login: str, password: str, school: str | None, code: str | None
) -> None:
    """Sign in with test credentials and report the students and the sections provided."""
    try:
        instance = instance_by_key(db.session, key)
        connector = services().pool.for_instance(instance)
        credentials = Credentials(login=login, password=password, school=school)
        try:
            session = connector.login(credentials)
        except SecondFactorRequired as asked:
            if code is None or not isinstance(connector, ConfirmsSecondFactor):
                raise click.ClickException(
                    "the system asks for a one-time code: pass --code"
                ) from None
            session = connector.confirm_second_factor(asked.challenge, code)
        students = connector.students(session)
    except (InstanceError, ConnectorError) as err:
        raise click.ClickException(f"check failed: {type(err).__name__}: {err}") from err
    click.echo(f"sign-in ok: {len(students)} student(s)")
    click.echo("sections: " + ", ".join(sorted(str(s) for s in sections_of(connector))))


def _set_enabled(key: str, enabled: bool) -> None:
    try:
        instance_by_key(db.session, key).enabled = enabled
    except InstanceError as err:
        raise click.ClickException(str(err)) from err
    db.session.commit()
    click.echo(f"{key} {'enabled' if enabled else 'disabled'}")


@connectors_group.command("disable")
@click.argument("key")
def disable_command(key: str) -> None:
    """Stop offering an instance to parents (existing links stay, marked unavailable)."""
    _set_enabled(key, False)


@connectors_group.command("enable")
@click.argument("key")
def enable_command(key: str) -> None:
    """Offer an instance to parents again."""
    _set_enabled(key, True)


roles_group = AppGroup("roles", help="Administrators and regional operators.")


def _grant(person: str, kind: RoleKind, region_code: str | None = None) -> None:
    try:
        role = roles.grant(
            db.session, person, kind, region_code=region_code, by="cli", now=services().now()
        )
    except roles.RoleError as err:
        raise click.ClickException(str(err)) from err
    db.session.commit()
    who = "signed-in person" if role.user_id else "waiting for first sign-in"
    click.echo(f"granted {kind.value} {region_code or ''} to {person} ({who})".replace("  ", " "))


@roles_group.command("grant-admin")
@click.argument("person")
def grant_admin_command(person: str) -> None:
    """Make PERSON (subject, phone or e-mail) an administrator."""
    _grant(person, RoleKind.ADMIN)


@roles_group.command("grant-operator")
@click.argument("person")
@click.argument("region_code")
def grant_operator_command(person: str, region_code: str) -> None:
    """Make PERSON the operator of a region (e.g. 63 for Samara region)."""
    _grant(person, RoleKind.OPERATOR, region_code)


@roles_group.command("revoke-operator")
@click.argument("person")
@click.argument("region_code")
def revoke_operator_command(person: str, region_code: str) -> None:
    """Take a region away from an operator."""
    count = roles.revoke(db.session, person, RoleKind.OPERATOR, region_code=region_code)
    db.session.commit()
    click.echo(f"revoked {count} role(s)")


@roles_group.command("list")
def list_roles_command() -> None:
    """List every role and whom it is granted to."""
    for role in roles.all_roles(db.session):
        holder = role.user.full_name if role.user else f"{role.phone or role.email} (waiting)"
        click.echo(f"{role.kind.value}\t{role.region_code or '-'}\t{holder}")


@roles_group.command("load")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None)
def load_roles_command(path: str | None) -> None:
    """Grant the roles of a TOML file (config/roles.toml by default)."""
    source = Path(path or current_app.config["ROLES_FILE"])
    granted = roles.load_file(db.session, source, now=services().now())
    db.session.commit()
    click.echo(f"{len(granted)} role(s) in place")


applications_group = AppGroup("applications", help="Parents' access applications.")


@applications_group.command("purge")
def purge_command() -> None:
    """Erase document numbers kept past APPLICATION_RETENTION_DAYS after the decision."""
    days = int(current_app.config["APPLICATION_RETENTION_DAYS"])
    count = applications.purge(db.session, now=services().now(), retention=dt.timedelta(days=days))
    db.session.commit()
    click.echo(f"erased the documents of {count} application(s)")


commands = [
    migrate_command,
    rotate_vault_command,
    connectors_group,
    roles_group,
    applications_group,
]
