"""The connectors in the pool read the gateway's one clock, pinned or not."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Mapping

import pytest

from connectors.clock import Clock
from connectors.clock import utcnow
from gateway import runtime
from gateway.models import ConnectorInstance
from gateway.services.instances import ConnectorPool
from tests.gateway.clock import pin_clock
from tests.gateway.fakes import FakeConnector

MORNING = dt.datetime(2026, 5, 20, 7, 32, tzinfo=dt.UTC)


class ClockedConnector(FakeConnector):
    """A fake connector that keeps the clock it was built with."""

    now: Clock = utcnow

    @classmethod
    def from_settings(
        cls, base_url: str, settings: Mapping[str, t.Any], *, http: t.Any = None, now: t.Any = None
    ) -> ClockedConnector:
        built = cls()
        built.now = now
        return built


def _instance() -> ConnectorInstance:
    return ConnectorInstance(
        id=7,
        key="clocked",
        region_code="63",
        region_name="Самарская область",
        connector="clocked",
        base_url="http://school.test",
        settings={},
        concurrency_limit=2,
    )


def test_the_pool_builds_each_connector_on_its_clock() -> None:
    pool = ConnectorPool({"clocked": ClockedConnector}, now=lambda: MORNING)
    built = pool.for_instance(_instance())
    assert isinstance(built, ClockedConnector) and built.now() == MORNING


def test_the_gateways_clock_moves_the_connectors_it_built_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = ConnectorPool({"clocked": ClockedConnector}, now=runtime.clock)
    built = pool.for_instance(_instance())
    assert isinstance(built, ClockedConnector)
    clock = pin_clock(monkeypatch, MORNING)  # pinned once the connector exists
    assert built.now() == MORNING
    clock.advance(minutes=5)
    assert built.now() == MORNING + dt.timedelta(minutes=5)
