"""Registered connector instances and the live connectors built from them."""

from __future__ import annotations

import re
import threading
import tomllib
import typing as t
from collections.abc import Mapping
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Connector
from connectors.concurrency import pooled_session
from gateway.models import ConnectorInstance
from gateway.services import upserts

_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


class UnknownConnector(LookupError):
    """An instance names a connector type that is not installed."""


def expand(value: str, environ: Mapping[str, str]) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in a registry value."""
    return _VARIABLE.sub(lambda m: environ.get(m["name"]) or (m["default"] or ""), value)


def load_registry_file(
    session: Session, path: Path, *, environ: Mapping[str, str]
) -> list[ConnectorInstance]:
    """Create or update the instances declared in a connectors TOML file, keyed by ``key``."""
    with path.open("rb") as fh:
        declared = tomllib.load(fh).get("instance", [])
    instances = []
    for entry in declared:
        values = {
            "region_code": str(entry["region_code"]),
            "region_name": entry["region_name"],
            "connector": entry["connector"],
            "base_url": expand(entry["base_url"], environ).rstrip("/"),
            "settings": dict(entry.get("settings", {})),
            "timezone": entry.get("timezone", "Europe/Moscow"),
            "concurrency_limit": int(entry.get("concurrency_limit", 8)),
            "enabled": bool(entry.get("enabled", True)),
        }
        # One statement per instance: gateways starting together load the file at once.
        statement = upserts.insert(session, ConnectorInstance).values(key=entry["key"], **values)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={name: statement.excluded[name] for name in values}
        )
        instances.append(
            session.scalars(
                statement.returning(ConnectorInstance),
                execution_options={"populate_existing": True},
            ).one()
        )
    return instances


def enabled_instances(session: Session) -> list[ConnectorInstance]:
    """Return the instances a parent may link a child at, by region name."""
    return list(
        session.scalars(
            select(ConnectorInstance)
            .where(ConnectorInstance.enabled.is_(True))
            .order_by(ConnectorInstance.region_name)
        )
    )


class ConnectorPool:
    """Build live connectors from instances once, and share them between requests.

    Connectors keep no per-user state, so one object per instance serves every parent and
    keeps its HTTP connection pool warm.
    """

    def __init__(self, classes: Mapping[str, type[Connector]]) -> None:
        """Use these connector classes, keyed by entry-point name."""
        self._classes = classes
        self._live: dict[tuple[int, str, str], Connector] = {}
        self._lock = threading.Lock()

    def installed(self) -> dict[str, str]:
        """Return the installed connector types and their titles, by name."""
        return {name: getattr(cls, "title", name) for name, cls in sorted(self._classes.items())}

    def connector_class(self, name: str) -> type[Connector]:
        """Return the installed class for a connector type.

        :raise UnknownConnector: when no such connector is installed.
        """
        try:
            return self._classes[name]
        except KeyError as err:
            raise UnknownConnector(name) from err

    def for_instance(self, instance: ConnectorInstance) -> Connector:
        """Return the live connector of an instance, building it on first use.

        Its HTTP session keeps no more than the instance's ``concurrency_limit`` requests in
        flight to each of the backend's hosts, however many fetches and parents share it.
        """
        identity = (
            instance.id,
            instance.base_url,
            repr(sorted(instance.settings.items())),
            instance.concurrency_limit,
        )
        with self._lock:
            live = self._live.get(identity)
            if live is None:
                cls = self.connector_class(instance.connector)
                live = cls.from_settings(
                    instance.base_url,
                    dict(instance.settings),
                    http=limited_session(instance.concurrency_limit),
                )
                self._live[identity] = live
            return t.cast(Connector, live)


def limited_session(limit: int) -> requests.Session:
    """Return an HTTP session with at most ``limit`` requests in flight per host.

    A fetch's requests sent together (``connectors.concurrency.gather``) and sign-ins count
    against the limit too. One session serves every parent: it never keeps a cookie.
    """
    http = pooled_session(limit)
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http


class InstanceError(ValueError):
    """An operator's registration cannot be accepted; the message says why."""


def register_instance(
    session: Session,
    pool: ConnectorPool,
    *,
    key: str,
    region_code: str,
    region_name: str,
    connector: str,
    base_url: str,
    settings: Mapping[str, t.Any],
    timezone: str = "Europe/Moscow",
    concurrency_limit: int = 8,
) -> ConnectorInstance:
    """Register a connector instance, validating its settings with the connector itself.

    :raise InstanceError: for an unknown connector type, a taken key or bad settings.
    """
    try:
        cls = pool.connector_class(connector)
    except UnknownConnector as err:
        raise InstanceError(f"no connector named {connector!r} is installed") from err
    if session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == key)):
        raise InstanceError(f"an instance with key {key!r} already exists")
    try:
        cls.from_settings(base_url, dict(settings))
    except ValueError as err:
        raise InstanceError(f"the {connector} connector refuses these settings: {err}") from err
    instance = ConnectorInstance(
        key=key,
        region_code=region_code,
        region_name=region_name,
        connector=connector,
        base_url=base_url.rstrip("/"),
        settings=dict(settings),
        timezone=timezone,
        concurrency_limit=concurrency_limit,
        enabled=True,
    )
    session.add(instance)
    session.flush()
    return instance


def instance_by_key(session: Session, key: str) -> ConnectorInstance:
    """Return the instance with this key.

    :raise InstanceError: when there is none.
    """
    instance = session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == key))
    if instance is None:
        raise InstanceError(f"no instance with key {key!r}")
    return instance


def all_instances(session: Session) -> list[ConnectorInstance]:
    """Return every registered instance, by key."""
    return list(session.scalars(select(ConnectorInstance).order_by(ConnectorInstance.key)))
