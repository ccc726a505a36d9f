"""`flask connectors load`: the deployment's declaration, applied where it changed.

A load sets only what the file changed since its last load, so a routine load (every start
of the demo runs one) leaves a console disable or a re-point awaiting approval as it is.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ConnectorInstance
from gateway.models import InstanceEvent
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool

PUBLIC = "http://93.184.216.34"
ELSEWHERE = "http://93.184.216.35"
KEY = "samara-file"


@pytest.fixture
def app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Flask:
    """A production-like gateway with no instance yet."""
    return build_fake_app(make_app, instances=(), ALLOW_PRIVATE_BACKENDS=False)


@pytest.fixture
def maria(app: Flask) -> FlaskClient:
    """The operator of region 63."""
    return signed_in(app, make_operator(app, "63"))


class Registry:
    """A connectors file with one instance, rewritten as a deployer edits it."""

    def __init__(self, app: Flask, path: Path) -> None:
        """Keep the app and where the file goes."""
        self.app, self.path = app, path
        self.write()

    def write(self, base_url: str = PUBLIC, *, enabled: bool = True, limit: int = 8) -> None:
        """Declare the instance."""
        self.path.write_text(
            f'[[instance]]\nkey = "{KEY}"\nregion_code = "63"\nregion_name = "Самара"\n'
            f'connector = "fake"\nbase_url = "{base_url}"\nenabled = {str(enabled).lower()}\n'
            f"concurrency_limit = {limit}\n",
            encoding="utf-8",
        )

    def load(self, *flags: str) -> str:
        """Run the command; return what it printed."""
        args = ["connectors", "load", "--file", str(self.path), *flags]
        done = self.app.test_cli_runner().invoke(args=args)
        assert done.exit_code == 0, done.output
        return done.output


@pytest.fixture
def registry(app: Flask, tmp_path: Path) -> Registry:
    """The file, loaded once: the instance is offered to parents."""
    registry = Registry(app, tmp_path / "connectors.toml")
    assert "enabled (set region_code" in registry.load()
    assert _instance(app).enabled is True
    return registry


def _instance(app: Flask) -> ConnectorInstance:
    with app.app_context():
        found = db.session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == KEY))
        assert found is not None
        db.session.expunge(found)
        return found


def _last_event(app: Flask) -> tuple[str, str | None]:
    with app.app_context():
        event = db.session.scalars(select(InstanceEvent).order_by(InstanceEvent.id.desc())).first()
        assert event is not None
        return event.kind, event.detail


def _disable(maria: FlaskClient) -> None:
    assert maria.post(f"/operator/instances/{KEY}/disable").status_code == 303
    assert _instance(maria.application).enabled is False


def test_a_load_of_the_same_file_keeps_a_console_disable(
    app: Flask, maria: FlaskClient, registry: Registry
) -> None:
    _disable(maria)
    assert f"{KEY}: fake at {PUBLIC}, disabled (unchanged in the file)" in registry.load()
    assert _instance(app).enabled is False
    assert _last_event(app) == ("load_kept", None)
    page = maria.get(f"/operator/instances/{KEY}").text
    assert "файл настроек не менялся: оставлено как есть" in page


def test_a_load_of_the_same_file_keeps_a_re_point_awaiting_approval(
    app: Flask, maria: FlaskClient, registry: Registry
) -> None:
    moved = maria.post(f"/operator/instances/{KEY}/address", data={"base_url": ELSEWHERE})
    assert moved.status_code == 303
    registry.load()
    instance = _instance(app)
    assert instance.base_url == ELSEWHERE
    assert instance.enabled is False and instance.approved_at is None


def test_another_changed_field_is_set_and_the_disable_stays(
    app: Flask, maria: FlaskClient, registry: Registry
) -> None:
    _disable(maria)
    registry.write(limit=3)
    assert "disabled (set concurrency_limit)" in registry.load()
    instance = _instance(app)
    assert instance.concurrency_limit == 3 and instance.enabled is False


def test_a_base_url_changed_in_the_file_is_approved_by_it_and_enabled(
    app: Flask, maria: FlaskClient, registry: Registry
) -> None:
    _disable(maria)
    registry.write(ELSEWHERE)
    assert "enabled (set base_url)" in registry.load()
    instance = _instance(app)
    assert instance.base_url == ELSEWHERE and instance.enabled is True
    assert instance.approved_at is not None and instance.approved_by_id is None
    assert _last_event(app) == ("loaded", f"{ELSEWHERE}; base_url")


def test_the_file_itself_may_take_an_instance_away_and_give_it_back(
    app: Flask, registry: Registry
) -> None:
    registry.write(enabled=False)
    registry.load()
    assert _instance(app).enabled is False
    registry.write(enabled=True)
    registry.load()
    assert _instance(app).enabled is True


def test_the_file_enables_no_address_an_administrator_has_not_approved(
    app: Flask, maria: FlaskClient, registry: Registry
) -> None:
    registry.write(enabled=False)
    registry.load()
    maria.post(f"/operator/instances/{KEY}/address", data={"base_url": ELSEWHERE})
    registry.write(enabled=True)
    registry.load()
    instance = _instance(app)
    assert instance.base_url == ELSEWHERE and instance.enabled is False


def test_a_forced_load_applies_the_whole_declaration(
    app: Flask, maria: FlaskClient, registry: Registry
) -> None:
    maria.post(f"/operator/instances/{KEY}/address", data={"base_url": ELSEWHERE})
    assert f"{KEY}: fake at {PUBLIC}, enabled (set region_code" in registry.load("--force")
    instance = _instance(app)
    assert instance.base_url == PUBLIC and instance.enabled is True
    assert instance.approved_at is not None
    assert _last_event(app)[0] == "loaded"


def test_an_instance_the_file_never_declared_takes_the_whole_declaration(
    app: Flask, tmp_path: Path
) -> None:
    """A row from before the gateway kept declarations, or registered under the same key."""
    with app.app_context():
        db.session.add(
            ConnectorInstance(
                key=KEY,
                region_code="63",
                region_name="Самара",
                connector="fake",
                base_url=ELSEWHERE,
                settings={},
                enabled=False,
            )
        )
        db.session.commit()
    Registry(app, tmp_path / "connectors.toml").load()
    instance = _instance(app)
    assert instance.base_url == PUBLIC and instance.enabled is True
