"""The background's documented settings: each one changes what the processes do."""

from __future__ import annotations

import datetime as dt
import importlib.util
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from connectors.schema import Section
from gateway.runtime import services
from gateway.settings import CONFIG_DIR
from gateway.settings import from_environment


def _launcher() -> t.Any:
    """Load scripts/run_demo.py, the launcher behind `make run` (a script, not a package)."""
    path = Path(__file__).resolve().parents[3] / "scripts" / "run_demo.py"
    spec = importlib.util.spec_from_file_location("run_demo", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_environment_names_the_broker_the_cadence_and_the_budget_file() -> None:
    found = from_environment(
        {
            "GATEWAY_BROKER_URL": "redis://broker.example:6379/2",
            "GATEWAY_SYNC_FILE": "/etc/diary/sync.toml",
            "GATEWAY_BUDGET_FILE": "/var/lib/diary/budget.sqlite3",
        }
    )
    assert found == {
        "BROKER_URL": "redis://broker.example:6379/2",
        "SYNC_FILE": "/etc/diary/sync.toml",
        "BUDGET_FILE": "/var/lib/diary/budget.sqlite3",
    }


def test_the_broker_is_redis_when_set_else_a_sqlite_file_unless_named(
    make_app: t.Callable[..., Flask],
) -> None:
    assert (
        make_app(BROKER_URL=None, REDIS_URL=None)
        .extensions["celery"]
        .conf.broker_url.startswith("sqla+sqlite:///")
    )
    redis_app = make_app(BROKER_URL=None, REDIS_URL="redis://127.0.0.1:6379/9")
    assert redis_app.extensions["celery"].conf.broker_url == "redis://127.0.0.1:6379/9"
    named = make_app(BROKER_URL="memory://")
    assert named.extensions["celery"].conf.broker_url == "memory://"


def test_a_sync_file_of_ones_own_sets_the_cadence_and_the_tick(
    make_app: t.Callable[..., Flask], tmp_path: Path
) -> None:
    text = (CONFIG_DIR / "sync.toml").read_text(encoding="utf-8")
    text = text.replace("tick_seconds = 15", "tick_seconds = 2")
    text = text.replace("ride_along_minutes = 5", "ride_along_minutes = 0")
    text = text.replace("[sync.sections.grades]\nschool = 20", "[sync.sections.grades]\nschool = 3")
    mine = tmp_path / "sync.toml"
    mine.write_text(text, encoding="utf-8")
    app = make_app(SYNC_FILE=str(mine))
    assert app.extensions["celery"].conf.beat_schedule["sync-tick"]["schedule"] == 2
    with app.app_context():
        school_hours = dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC)
        interval = services().cadence.interval(Section.GRADES, school_hours, "Europe/Moscow")
        assert services().sync.ride_along == dt.timedelta(0)
    assert interval == dt.timedelta(minutes=3)
    with make_app().app_context():  # the shipped file's
        assert services().sync.ride_along == dt.timedelta(minutes=5)


@pytest.mark.parametrize("workers", [None, "3"])
def test_the_launcher_serves_with_gunicorn_workers_and_keeps_the_schedule_where_told(
    workers: str | None, tmp_path: Path
) -> None:
    env = {"GATEWAY_BEAT_SCHEDULE": str(tmp_path / "beat")}
    if workers:
        env["GATEWAY_WORKERS"] = workers
    launcher = _launcher()
    commands = launcher.commands(launcher.read_ports({}), env)
    gateway = commands["gateway"]
    assert "gunicorn" in gateway and gateway[gateway.index("--workers") + 1] == (workers or "2")
    assert commands["scheduler"][-1] == str(tmp_path / "beat")
    assert {"sync-worker", "backfill-worker", "scheduler"} <= set(commands)
    assert "backfill" in commands["backfill-worker"]
    assert "interactive,scheduled" in commands["sync-worker"]
    assert commands["mail"][2:5] == ["scripts.dev_mail", "--port", "1025"]
