"""An instance the shared budget leaves alone shows as degraded, with when it is tried again.

The operator's pages read the pool's budget; the live test shows the family page keeping off
a backend whose circuit is open, and labelling its data instead of hanging.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from pathlib import Path

import pytest
import redis
import requests
from flask import Flask
from flask_babel import format_datetime
from sqlalchemy import delete
from sqlalchemy import select

from connectors.errors import BackendUnavailable
from gateway import runtime
from gateway.extensions import db
from gateway.models import ConnectorInstance
from gateway.models import SectionSnapshot
from gateway.services.budget import Allowance
from gateway.services.budget import Budget
from gateway.services.budget import BudgetUnavailable
from gateway.services.budget import CircuitState
from gateway.services.budget import Outcome
from gateway.services.budget import Policy
from gateway.services.budget import Ticket
from gateway.services.budget_stores import RedisStore
from gateway.services.budget_stores import SqliteStore
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import signed_in
from tests.support.idp import sign_in

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
POLICY = Policy(failures_to_open=2, cool_down=300.0)


def _install_budget(app: Flask, path: Path, *, now: t.Callable[[], dt.datetime]) -> Budget:
    """Give the app's pool a budget, as the wiring will (before any connector is built)."""
    budget = Budget(SqliteStore(path, window=60.0), clock=now, policy=POLICY)
    app.extensions["diary_gateway"].pool.budget = budget
    return budget


def _instance_id(app: Flask, key: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(ConnectorInstance.id).where(ConnectorInstance.key == key))
        assert found is not None
        return int(found)


def _open_circuit(budget: Budget, instance_id: int) -> None:
    allowance = Allowance(instance_id=instance_id, concurrency=1, per_minute=100)
    for _ in range(POLICY.failures_to_open):
        budget.finish(budget.admit(allowance), Outcome.FAILED)


def _shown(app: Flask, moment: dt.datetime, pattern: str) -> str:
    with app.test_request_context():
        return str(format_datetime(moment, pattern))


def test_the_health_page_shows_an_open_circuit_as_degraded_with_its_probe_time(
    operator_app: Flask, tmp_path: Path
) -> None:
    budget = _install_budget(operator_app, tmp_path / "budget.sqlite3", now=lambda: NOW)
    maria = signed_in(operator_app, make_operator(operator_app, "63"))
    page = maria.get("/operator/instances/samara-fake").text
    assert "следующая проверка" not in page and "работает со сбоями" not in page

    _open_circuit(budget, _instance_id(operator_app, "samara-fake"))
    probe_at = NOW + dt.timedelta(seconds=POLICY.cool_down)
    page = maria.get("/operator/instances/samara-fake").text
    assert "работает со сбоями" in page
    assert "следующая проверка — " + _shown(operator_app, probe_at, "d MMM HH:mm:ss") in page
    index = maria.get("/operator/").text
    assert "сбои" in index and _shown(operator_app, probe_at, "HH:mm:ss") in index


def test_the_health_page_shows_a_pause_with_its_end(operator_app: Flask, tmp_path: Path) -> None:
    budget = _install_budget(operator_app, tmp_path / "budget.sqlite3", now=lambda: NOW)
    maria = signed_in(operator_app, make_operator(operator_app, "63"))
    budget.pause(_instance_id(operator_app, "samara-fake"), 120)
    page = maria.get("/operator/instances/samara-fake").text
    ends = _shown(operator_app, NOW + dt.timedelta(seconds=120), "d MMM HH:mm:ss")
    assert "попросила сделать паузу" in page and ends in page
    assert "работает со сбоями" in page


IRINA = ("+79000000001", "parent-demo-1")
MESH = "moscow-mesh"


@pytest.fixture
def gateway(make_stack_app: t.Callable[..., Flask]) -> Flask:
    """A gateway on the live stack; CSRF is proven separately, so forms post bare here."""
    return make_stack_app(WTF_CSRF_ENABLED=False)


def test_an_open_circuit_keeps_the_family_page_off_the_backend(
    gateway: Flask, mesh_url: str, tmp_path: Path
) -> None:
    budget = _install_budget(gateway, tmp_path / "budget.sqlite3", now=runtime.clock)
    client = gateway.test_client()
    sign_in(client, *IRINA)
    form = {"login": "irina.smirnova", "password": "Mesh-2026-parent"}
    assert client.post(f"/children/link/{MESH}", data=form).status_code == 303
    assert client.post(f"/children/link/{MESH}/code", data={"code": "424242"}).status_code == 303
    assert "недоступна" not in client.get("/").text  # linking and a fetch went through

    mesh = _instance_id(gateway, MESH)
    _open_circuit(budget, mesh)
    assert budget.state(mesh) is CircuitState.OPEN
    with gateway.app_context():
        db.session.execute(delete(SectionSnapshot))
        db.session.commit()
    requests.post(f"{mesh_url}/__admin/stats/reset", timeout=5).raise_for_status()
    page = client.get("/")
    assert page.status_code == 200 and "недоступна" in page.text
    assert sum(requests.get(f"{mesh_url}/__admin/stats", timeout=5).json().values()) == 0


def _unreachable_store() -> RedisStore:
    """Return a budget store in a Redis that does not answer (nothing listens on port 1)."""
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    return RedisStore(client, prefix="down:", window=60.0)


def _unreachable_budget(app: Flask) -> Budget:
    """Give the app's pool a budget whose store does not answer."""
    budget = Budget(_unreachable_store(), clock=runtime.clock)
    app.extensions["diary_gateway"].pool.budget = budget
    return budget


def test_a_budget_store_that_does_not_answer_refuses_requests_and_loses_only_counts() -> None:
    """No request goes out unbudgeted; an answer already had is not lost over its count."""
    budget = Budget(_unreachable_store())
    allowance = Allowance(instance_id=1, concurrency=1, per_minute=100)
    with pytest.raises(BudgetUnavailable) as refused:
        budget.admit(allowance)
    assert isinstance(refused.value, BackendUnavailable)
    with pytest.raises(BudgetUnavailable):
        budget.check(1)
    with pytest.raises(BudgetUnavailable):
        budget.state(1)
    budget.finish(Ticket(allowance, "lease", probe=False), Outcome.OK)  # logged, not raised
    budget.pause(1, 30)


def test_the_health_page_says_the_budget_does_not_answer_instead_of_failing(
    operator_app: Flask,
) -> None:
    _unreachable_budget(operator_app)
    maria = signed_in(operator_app, make_operator(operator_app, "63"))
    page = maria.get("/operator/instances/samara-fake")
    assert page.status_code == 200
    assert "Хранилище общего лимита запросов не отвечает" in page.text
    assert "работает со сбоями" in page.text
    index = maria.get("/operator/")
    assert index.status_code == 200 and "лимит запросов недоступен" in index.text


def test_with_the_budget_store_down_the_family_page_asks_no_backend_and_says_so(
    gateway: Flask, mesh_url: str, tmp_path: Path
) -> None:
    budget = _install_budget(gateway, tmp_path / "budget.sqlite3", now=runtime.clock)
    client = gateway.test_client()
    sign_in(client, *IRINA)
    form = {"login": "irina.smirnova", "password": "Mesh-2026-parent"}
    assert client.post(f"/children/link/{MESH}", data=form).status_code == 303
    assert client.post(f"/children/link/{MESH}/code", data={"code": "424242"}).status_code == 303
    assert "недоступна" not in client.get("/").text
    budget.store = _unreachable_store()  # Redis stops answering: every process sees it
    with gateway.app_context():
        db.session.execute(delete(SectionSnapshot))
        db.session.commit()
    requests.post(f"{mesh_url}/__admin/stats/reset", timeout=5).raise_for_status()
    page = client.get("/")
    assert page.status_code == 200 and "недоступна" in page.text
    assert sum(requests.get(f"{mesh_url}/__admin/stats", timeout=5).json().values()) == 0
