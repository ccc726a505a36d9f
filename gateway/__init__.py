"""Diary Gateway: one place for a parent to follow all of their children's school diaries."""

from __future__ import annotations

import os
import typing as t
from collections.abc import Mapping

from flask import Flask

from gateway import settings
from gateway import wiring


def create_app(config: Mapping[str, t.Any] | None = None) -> Flask:
    """Build the gateway: defaults, then the environment, then ``config`` (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    instance = settings.Path(app.instance_path)
    app.config.update(settings.packaged_defaults(instance))
    app.config.update(settings.from_environment(os.environ))
    app.config.update(config or {})
    settings.finish(app.config, instance)
    app.config.update(settings.flask_settings(app.config))

    wiring.bind_extensions(app)
    wiring.register_blueprints(app)
    wiring.register_cli(app)
    return app
