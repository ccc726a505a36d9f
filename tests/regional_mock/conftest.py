"""Fixtures of the emulator tests: a fixed-date world, a fake clock, the NetSchool app."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient

from regional_mock.netschool import create_app
from regional_mock.world import World
from regional_mock.world import build_world
from tests.regional_mock.helpers import FakeClock

# A Wednesday in the middle of a school term, so the tests do not depend on the calendar.
TODAY = dt.date(2026, 3, 11)


@pytest.fixture(scope="session")
def world() -> World:
    """Build the demo world for a fixed date."""
    return build_world(today=TODAY)


@pytest.fixture
def clock() -> FakeClock:
    """Return a clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def app(world: World, clock: FakeClock) -> Flask:
    """Return the NetSchool emulator over the fixed-date world."""
    return create_app(world, {"NETSCHOOL_CLOCK": clock})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client that keeps cookies, like the clients' HTTP sessions."""
    return app.test_client()
