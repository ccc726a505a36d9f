"""Fixtures of the MESH connector tests: mocked wire, a connector on it, tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from connectors.mesh import MeshConnector
from tests.connectors.mesh.helpers import LOGIN
from tests.connectors.mesh.helpers import SCHOOL


@pytest.fixture
def http() -> requests.Session:
    """Return the HTTP session injected into the connector."""
    return requests.Session()


@pytest.fixture
def connector(http: requests.Session) -> MeshConnector:
    """Return a connector with login.mos.ru and school.mos.ru on separate hosts."""
    settings = {"login_url": LOGIN, "connect_timeout": 2.5, "read_timeout": 7}
    return MeshConnector.from_settings(SCHOOL, settings, http=http)


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    """Mock the wire; every registered reply must be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def handshake() -> Iterator[responses.RequestsMock]:
    """Mock the wire for a handshake: replies must be used, in the order registered."""
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock
