"""``flask`` commands: migrate, the connector registry, vault key rotation, and the log."""

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

from gateway.database import upgrade
from gateway.extensions import db
from gateway.log_commands import log_group
from gateway.models import ConnectorInstance
from gateway.models import RoleKind
from gateway.push_commands import push_group
from gateway.runtime import services
from gateway.services import applications
from gateway.services import lifecycle
from gateway.services import roles
from gateway.services.egress import RefusedAddress
from gateway.services.instances import InstanceError
from gateway.services.instances import all_instances
from gateway.services.instances import instance_by_key
from gateway.services.instances import load_registry_file
from gateway.services.vault import rotate_all


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Bring the database schema up to date."""
    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo("database is up to date")


@click.command("rotate-vault")
@with_appcontext
def rotate_vault_command() -> None:
    """Re-encrypt every stored secret with the first key of GATEWAY_VAULT_KEYS."""
    count = rotate_all(db.session, vault=services().vault)
    db.session.commit()
    click.echo(f"re-encrypted the secrets of {count} rows")


connectors_group = AppGroup(
    "connectors",
    help="Connector instances that regional operators run.\n\nThese commands are for a "
    "trusted administrator on the server: --by records who they say they are, and nothing "
    "checks it. Four eyes are enforced by sign-in in the console (/operator/approvals).",
)
BY = click.option(
    "--by",
    "person",
    default=None,
    help="Who makes the change: the subject, phone or e-mail of a person who has signed in. "
    "Taken on trust from whoever runs the command on the server.",
)


def _policy() -> lifecycle.Policy:
    return lifecycle.Policy(allow_private=current_app.config["ALLOW_PRIVATE_BACKENDS"])


def _actor(person: str | None, *, required: bool = False) -> lifecycle.Actor:
    """Name the person behind a command, as whoever runs it on the server says (--by)."""
    if person is None:
        if required:
            raise click.UsageError("say who makes this change: --by PERSON")
        return lifecycle.Actor(via="cli")
    user = roles.find_person(db.session, person)
    if user is None:
        raise click.ClickException(f"no signed-in person {person!r}")
    return lifecycle.Actor(user=user, via="cli")


def _instance(key: str) -> ConnectorInstance:
    try:
        return instance_by_key(db.session, key)
    except InstanceError as err:
        raise click.ClickException(str(err)) from err


@connectors_group.command("load")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option(
    "--force",
    is_flag=True,
    help="Apply every declaration whole, undoing console changes to the file's instances "
    "(a disable, a re-point awaiting approval).",
)
def load_command(path: str | None, force: bool) -> None:
    """Register the instances of a TOML file (the configured registry by default).

    A known instance gets only what the file changed since its last load: a disable or a
    re-point made in the console since stays, unless the file changed that very field.
    """
    source = Path(path or current_app.config["CONNECTORS_FILE"])
    try:
        loaded = load_registry_file(
            db.session,
            source,
            environ=os.environ,
            allow_private=current_app.config["ALLOW_PRIVATE_BACKENDS"],
            now=services().now(),
            force=force,
        )
    except RefusedAddress as err:
        raise click.ClickException(
            f"{err}: the host does not resolve or is private (GATEWAY_ALLOW_PRIVATE_BACKENDS)"
        ) from err
    for each in loaded:
        instance = each.instance
        done = "set " + ", ".join(each.applied) if each.applied else "unchanged in the file"
        click.echo(
            f"{instance.key}: {instance.connector} at {instance.base_url}, "
            f"{lifecycle.state(instance)} ({done})"
        )
    db.session.commit()


@connectors_group.command("list")
def list_command() -> None:
    """List the registered instances and their state."""
    for instance in all_instances(db.session):
        click.echo(
            f"{instance.key}\t{instance.region_code} {instance.region_name}\t"
            f"{instance.connector}\t{instance.base_url}\t{lifecycle.state(instance)}"
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
@BY
def add_command(
    settings: tuple[str, ...], connector_name: str, person: str | None, **fields: t.Any
) -> None:
    """Register an instance; parents see it once tested and approved by another admin."""
    parsed = dict(_setting(item) for item in settings)
    by = _actor(person, required=True)
    try:
        instance = lifecycle.register(
            db.session,
            pool=services().pool,
            connector=connector_name,
            settings=parsed,
            by=by,
            now=services().now(),
            policy=_policy(),
            **fields,
        )
    except lifecycle.AddressRefused as err:
        raise click.ClickException("the host does not resolve or is private") from err
    except InstanceError as err:
        raise click.ClickException(str(err)) from err
    db.session.commit()
    click.echo(f"registered {instance.key}: untested; run `connectors check`, then another")
    click.echo("administrator enables it")


@connectors_group.command("set-url")
@click.argument("key")
@click.argument("base_url")
@BY
def set_url_command(key: str, base_url: str, person: str | None) -> None:
    """Re-point an instance; parents lose it until it is tested and approved again."""
    instance = _instance(key)
    by = _actor(person, required=True)
    try:
        lifecycle.repoint(
            db.session,
            instance,
            pool=services().pool,
            base_url=base_url,
            by=by,
            now=services().now(),
            policy=_policy(),
        )
    except lifecycle.AddressRefused as err:
        raise click.ClickException("the host does not resolve or is private") from err
    except InstanceError as err:
        raise click.ClickException(str(err)) from err
    db.session.commit()
    click.echo(f"{key} now at {instance.base_url}: untested, not offered to parents")


def _setting(item: str) -> tuple[str, t.Any]:
    """Split NAME=VALUE; the value is JSON when it parses (numbers, booleans), else text."""
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--setting")
    try:
        return name.strip(), json.loads(value)
    except ValueError:
        return name.strip(), value


CHECK_FAILED = {
    "credentials": "check failed: the system refused the test login",
    "code_needed": "check failed: the system asks for a one-time code: pass --code",
    # One answer for closed, filtered, refused, timed out and unresolvable: no port map.
    "unreachable": "check failed: the system could not be reached",
}


@connectors_group.command("check")
@click.argument("key")
@click.option("--login", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--school", default=None)
@click.option("--code", default=None, help="A one-time code, if the system asks for one.")
@BY
def check_command(
    key: str, login: str, password: str, school: str | None, code: str | None, person: str | None
) -> None:
    """Sign in with test credentials and report the students and the sections provided."""
    instance, by = _instance(key), _actor(person)
    try:
        result = lifecycle.check_connection(
            db.session,
            instance,
            pool=services().pool,
            login=login,
            password=password,
            school=school,
            code=code,
            by=by,
            now=services().now(),
        )
    except lifecycle.ConnectionFailed as failed:
        db.session.commit()  # the failed test is in the audit log
        raise click.ClickException(CHECK_FAILED[failed.code]) from None
    db.session.commit()
    click.echo(f"sign-in ok: {result.students} student(s)")
    click.echo("sections: " + ", ".join(sorted(str(s) for s in result.sections)))


@connectors_group.command("disable")
@click.argument("key")
@BY
def disable_command(key: str, person: str | None) -> None:
    """Stop offering an instance to parents (existing links stay, marked unavailable)."""
    instance = _instance(key)
    lifecycle.set_enabled(db.session, instance, False, by=_actor(person), now=services().now())
    db.session.commit()
    click.echo(f"{key} disabled")


@connectors_group.command("enable")
@click.argument("key")
@BY
@click.option(
    "--url",
    default=None,
    help="The address you reviewed: enabling refuses if the instance is at another one now. "
    "Without it, approving a new or re-pointed instance shows its address and asks.",
)
def enable_command(key: str, person: str | None, url: str | None) -> None:
    """Offer an instance to parents: again, or for the first time as an administrator
    other than the person who registered or re-pointed it (--by).

    The four-eyes rule here compares the names given to --by, which the command cannot
    verify: it trusts the administrator running it on the server. The console checks who
    approves by their sign-in.
    """
    instance = _instance(key)
    seen, by = url, _actor(person, required=lifecycle.needs_approval(instance))
    if lifecycle.needs_approval(instance) and seen is None:
        seen = _confirmed(instance)
    try:
        lifecycle.enable(db.session, instance, by=by, now=services().now(), seen_url=seen)
    except lifecycle.LifecycleError as err:
        message = APPROVAL_REFUSED[err.code].format(url=instance.base_url)
        raise click.ClickException(message) from err
    db.session.commit()
    click.echo(f"{key} enabled at {instance.base_url}")


def _confirmed(instance: ConnectorInstance) -> str:
    """Show the address to be approved and return it once the administrator agrees."""
    click.echo(f"{instance.key} is at {instance.base_url}")
    click.confirm("approve this address and offer it to parents?", abort=True)
    return instance.base_url


APPROVAL_REFUSED = {
    "not_admin": "only an administrator may enable a new or re-pointed instance",
    "changed": "the instance is at {url} now, not at the address you reviewed: review it first",
    "untested": "no connection test has passed since the last change: run `connectors check`",
    "four_eyes": "another administrator must enable it: --by made this change",
    "unapproved": "the instance is not approved yet",
}


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
    log_group,
    push_group,
]
