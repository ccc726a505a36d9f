"""Serve a WSGI app over real HTTP on a free loopback port for the length of a test."""

from __future__ import annotations

import contextlib
import os
import threading
import typing as t
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

if t.TYPE_CHECKING:
    from wsgiref.types import WSGIApplication


@contextlib.contextmanager
def serving(app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` in a thread and yield its base URL (no trailing slash)."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def unavailable(reason: str) -> t.NoReturn:
    """Skip a test whose service or browser is missing; under ``CI=true`` fail instead."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required under CI but unavailable: {reason}")
    pytest.skip(reason)
