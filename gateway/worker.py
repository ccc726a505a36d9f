"""What Celery's processes load: ``celery -A gateway.worker:celery worker`` and ``... beat``.

One gateway app, built from the environment like the web processes', whose Celery app
(``gateway.background``) runs every task inside the app's context.
"""

from __future__ import annotations

from gateway import create_app

app = create_app()
celery = app.extensions["celery"]
