"""Registered connector instances and the live connectors built from them."""

from __future__ import annotations

import datetime as dt
import re
import threading
import tomllib
import typing as t
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import ChecksRoster
from connectors.base import Connector
from connectors.base import IssuesCredentials
from connectors.base import sections_of
from connectors.clock import Clock
from connectors.clock import utcnow
from connectors.concurrency import pooled_session
from connectors.schema import Section
from gateway.models import ConnectorInstance
from gateway.services import audit
from gateway.services import egress
from gateway.services import upserts
from gateway.services.budget import Allowance
from gateway.services.budget import Budget
from gateway.services.budget import BudgetedAdapter

_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


class UnknownConnector(LookupError):
    """An instance names a connector type that is not installed."""


def expand(value: str, environ: Mapping[str, str]) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in a registry value."""
    return _VARIABLE.sub(lambda m: environ.get(m["name"]) or (m["default"] or ""), value)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A declared instance after a load, and the fields the load set (none: left as it was)."""

    instance: ConnectorInstance
    applied: tuple[str, ...]


def load_registry_file(
    session: Session,
    path: Path,
    *,
    environ: Mapping[str, str],
    allow_private: bool,
    now: dt.datetime,
    force: bool = False,
) -> list[Loaded]:
    """Create or update the instances declared in a connectors TOML file, keyed by ``key``.

    The file is the deployment's own declaration, as the roles file is: a new instance is
    created as declared and counted as approved. A known one gets only what the file
    changed since its last load, so what people did in the console since (a disable, a
    re-point awaiting approval) stays unless the file changed that very thing; a changed
    base URL is approved by the file and enabled as declared. ``force`` applies the whole
    declaration. Either way the load is in each instance's audit log. Addresses are checked
    as an operator's are.

    :raise egress.RefusedAddress: for an address the deployment does not allow.
    """
    with path.open("rb") as fh:
        declared = tomllib.load(fh).get("instance", [])
    loaded = []
    for entry in declared:
        values = _declared(entry, environ)
        if not allow_private:
            egress.check_all(egress.urls_in(values["base_url"], values["settings"]))
        instance, applied = _created(session, entry["key"], values, now) or _updated(
            session, entry["key"], values, now, force=force
        )
        via = f"file:{path.name}"
        if applied:
            detail = f"{instance.base_url}; {', '.join(applied)}"
            audit.record_instance(session, instance, "loaded", now=now, via=via, detail=detail)
        else:
            audit.record_instance(session, instance, "load_kept", now=now, via=via)
        loaded.append(Loaded(instance, applied))
    return loaded


def _created(
    session: Session, key: str, values: dict[str, t.Any], now: dt.datetime
) -> tuple[ConnectorInstance, tuple[str, ...]] | None:
    """Insert a new instance as declared; return None when the key is taken."""
    # One statement: gateways starting together load the file at once, and only one inserts.
    statement = (
        upserts.insert(session, ConnectorInstance)
        .values(key=key, **values, declared=values, approved_at=now, changed_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ConnectorInstance)
    )
    instance = session.scalars(statement, execution_options={"populate_existing": True}).first()
    return None if instance is None else (instance, tuple(values))


def _updated(
    session: Session, key: str, values: dict[str, t.Any], now: dt.datetime, *, force: bool
) -> tuple[ConnectorInstance, tuple[str, ...]]:
    """Set the fields the file changed since its last load (every one, forced)."""
    instance = session.scalars(
        select(ConnectorInstance).where(ConnectorInstance.key == key).with_for_update(),
        execution_options={"populate_existing": True},
    ).one()
    last = instance.declared or {}
    applied = tuple(n for n, v in values.items() if force or n not in last or last[n] != v)
    for name in applied:
        setattr(instance, name, values[name])
    if force or "base_url" in applied:  # the deployment re-points it itself
        instance.approved_at, instance.approved_by_id = now, None
        instance.changed_at, instance.changed_by_id = now, None
    if {"base_url", "enabled"} & set(applied):
        instance.enabled = values["enabled"] and instance.approved_at is not None
    instance.declared = values
    return instance, applied


def _declared(entry: Mapping[str, t.Any], environ: Mapping[str, str]) -> dict[str, t.Any]:
    return {
        "region_code": str(entry["region_code"]),
        "region_name": entry["region_name"],
        "connector": entry["connector"],
        "base_url": expand(entry["base_url"], environ).rstrip("/"),
        "settings": dict(entry.get("settings", {})),
        "timezone": entry.get("timezone", "Europe/Moscow"),
        "concurrency_limit": int(entry.get("concurrency_limit", 8)),
        "requests_per_minute": int(entry.get("requests_per_minute", 600)),
        "enabled": bool(entry.get("enabled", True)),
    }


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

    def __init__(
        self,
        classes: Mapping[str, type[Connector]],
        *,
        allow_private: bool = False,
        now: Clock = utcnow,
        budget: Budget | None = None,
    ) -> None:
        """Use these connector classes, keyed by entry-point name, on the clock ``now``.

        Unless ``allow_private``, no connector may connect to a private address. With a
        ``budget``, every request to an instance's backend spends from it, shared by every
        process (:mod:`gateway.services.budget`); without, the limits hold per process only.
        """
        self._classes = classes
        self._allow_private = allow_private
        self._now = now
        self.budget = budget
        # One live connector per instance as configured: id, URL, settings and its limits.
        self._live: dict[tuple[int, str, str, int, int], Connector] = {}
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
        flight to each of the backend's hosts, however many fetches and parents share it; with
        the pool's budget, no more than that and ``requests_per_minute`` across processes.
        """
        identity = (
            instance.id,
            instance.base_url,
            repr(sorted(instance.settings.items())),
            instance.concurrency_limit,
            instance.requests_per_minute,
        )
        with self._lock:
            live = self._live.get(identity)
            if live is None:
                cls = self.connector_class(instance.connector)
                live = cls.from_settings(
                    instance.base_url,
                    dict(instance.settings),
                    http=limited_session(
                        instance.concurrency_limit,
                        guarded=not self._allow_private,
                        budget=self.budget,
                        allowance=allowance_of(instance),
                    ),
                    now=self._now,
                )
                self._live[identity] = live
            return live


def allowance_of(instance: ConnectorInstance) -> Allowance:
    """Return what an instance's backend may be sent, as its budget counts it."""
    return Allowance(
        instance_id=instance.id,
        concurrency=instance.concurrency_limit,
        per_minute=instance.requests_per_minute,
    )


def limited_session(
    limit: int,
    *,
    guarded: bool = True,
    budget: Budget | None = None,
    allowance: Allowance | None = None,
) -> requests.Session:
    """Return an HTTP session with at most ``limit`` requests in flight per host.

    A fetch's requests sent together (``connectors.concurrency.gather``) and sign-ins count
    against the limit too. One session serves every parent: it never keeps a cookie.
    ``guarded``, it refuses to connect to a private address (``services.egress``), whatever
    DNS answers at the time. With a ``budget``, each request first spends the instance's
    ``allowance`` from it (every process's), and its answer feeds the circuit and the pause.
    """
    http = pooled_session(limit)
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    if guarded:
        http = egress.guard(http)
    if budget is not None and allowance is not None:
        wrapped: dict[int, BudgetedAdapter] = {}
        for prefix, adapter in list(http.adapters.items()):
            if id(adapter) not in wrapped:  # one adapter mounted twice stays one
                wrapped[id(adapter)] = BudgetedAdapter(adapter, budget, allowance)
            http.mount(prefix, wrapped[id(adapter)])
    return http


class InstanceError(ValueError):
    """An operator's registration cannot be accepted; the message says why."""


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


def in_regions(session: Session, regions: Collection[str]) -> list[ConnectorInstance]:
    """Return the instances of these regions (an operator's)."""
    return list(
        session.scalars(select(ConnectorInstance).where(ConnectorInstance.region_code.in_(regions)))
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Offers:
    """What an instance's connector provides: its sections and the operator's abilities."""

    sections: frozenset[Section]
    issues_credentials: bool
    checks_roster: bool


NOTHING_OFFERED = Offers(sections=frozenset(), issues_credentials=False, checks_roster=False)


def offers(instance: ConnectorInstance, *, pool: ConnectorPool) -> Offers:
    """Say what the instance's connector provides; nothing when it cannot be built.

    A connector type uninstalled since registration, or settings it refuses now, must not
    take the console down with it.
    """
    try:
        connector = pool.for_instance(instance)
        sections = sections_of(connector)
    except (UnknownConnector, ValueError):
        return NOTHING_OFFERED
    return Offers(
        sections=sections,
        issues_credentials=issues_credentials(connector),
        checks_roster=isinstance(connector, ChecksRoster),
    )


def issues_credentials(connector: Connector) -> bool:
    """Tell whether the backend creates parents' logins itself (an operator's approval)."""
    return isinstance(connector, IssuesCredentials)
