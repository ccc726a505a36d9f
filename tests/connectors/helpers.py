"""Helpers shared by the connector tests."""

from __future__ import annotations

import json
import threading
import typing as t
from collections.abc import Callable

import requests


def barrier_reply(
    barrier: threading.Barrier, body: t.Any
) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]:
    """Answer ``body`` once ``barrier`` tripped: only requests in flight together pass it."""

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        barrier.wait()
        return 200, {}, json.dumps(body)

    return reply
