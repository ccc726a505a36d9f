"""An instance's concurrency limit bounds the requests a school system receives at once.

Over real HTTP: the MESH connector reads a long period's event calendar a month at a time,
all the months together; the emulator counts how many requests it answers at the same time.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import SectionSnapshot
from tests.support.idp import sign_in

IRINA = ("+79000000001", "parent-demo-1")
MESH = "moscow-mesh"
# Two hundred days of marks: seven month-long calendar reads sent at once.
LONG_PERIOD_DAYS = 200


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """A gateway on the live stack; CSRF is proven separately, so forms post bare here."""
    return make_stack_app(WTF_CSRF_ENABLED=False)


@pytest.fixture
def slow_mesh(mesh_url: str) -> Iterator[str]:
    """Make every MESH answer take 100 ms, so requests sent together overlap there."""
    requests.post(f"{mesh_url}/__admin/faults", json={"latency_ms": 100}, timeout=5)
    try:
        yield mesh_url
    finally:
        requests.delete(f"{mesh_url}/__admin/faults", timeout=5).raise_for_status()


def _set_limit(app: Flask, limit: int) -> None:
    with app.app_context():
        instance = db.session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == MESH))
        assert instance is not None
        instance.concurrency_limit = limit
        db.session.commit()


def _most_at_once_on_a_cold_grades_page(client: FlaskClient, app: Flask, mesh_url: str) -> int:
    with app.app_context():
        db.session.execute(delete(SectionSnapshot))
        db.session.commit()
        link_id = db.session.scalars(
            select(ChildLink.id).join(ConnectorInstance).where(ConnectorInstance.key == MESH)
        ).first()
    requests.post(f"{mesh_url}/__admin/stats/reset", timeout=5).raise_for_status()
    end = dt.date.today()
    start = end - dt.timedelta(days=LONG_PERIOD_DAYS - 1)
    page = client.get(f"/child/{link_id}?section=grades&start={start}&end={end}")
    assert page.status_code == 200 and "недоступна" not in page.text
    # More requests than the larger limit below, or reaching it would prove nothing.
    assert sum(requests.get(f"{mesh_url}/__admin/stats", timeout=5).json().values()) > 3
    figures = requests.get(f"{mesh_url}/__admin/concurrency", timeout=5).json()
    return int(figures["most_at_once"])


def test_mesh_never_answers_more_requests_at_once_than_the_instances_limit(
    gateway: Flask, slow_mesh: str
) -> None:
    client = gateway.test_client()
    sign_in(client, *IRINA)
    form = {"login": "irina.smirnova", "password": "Mesh-2026-parent"}
    assert client.post(f"/children/link/{MESH}", data=form).status_code == 303
    assert client.post(f"/children/link/{MESH}/code", data={"code": "424242"}).status_code == 303

    _set_limit(gateway, 1)
    assert _most_at_once_on_a_cold_grades_page(client, gateway, slow_mesh) == 1
    _set_limit(gateway, 3)  # an operator's change applies to the running gateway
    assert _most_at_once_on_a_cold_grades_page(client, gateway, slow_mesh) == 3
