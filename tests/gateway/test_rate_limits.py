"""Rate limits on sign-in and on every form that takes credentials or codes."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask

from gateway.extensions import limiter
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool


@pytest.fixture
def limited(make_app: t.Callable[..., Flask], school: FakeSchool) -> t.Iterator[Flask]:
    """A fake-connector app with tight rate limits, its counters fresh."""
    app = build_fake_app(
        make_app,
        RATELIMIT_ENABLED=True,
        LIMIT_LOGIN="2 per minute",
        LIMIT_CREDENTIALS="2 per minute",
    )
    limiter.reset()
    yield app
    limiter.reset()


def test_sign_in_is_rate_limited(limited: Flask) -> None:
    client = limited.test_client()
    codes = [client.get("/auth/callback?state=x&code=y").status_code for _ in range(3)]
    assert codes[-1] == 429 and 429 not in codes[:2]


@pytest.mark.parametrize("path", ["/children/link/test-fake", "/children/link/test-fake/code"])
def test_credential_forms_are_rate_limited_per_person(limited: Flask, path: str) -> None:
    client = signed_in(limited, make_parent(limited))
    data = {"login": "parent", "password": "wrong", "code": "000000"}
    codes = [client.post(path, data=data).status_code for _ in range(3)]
    assert codes[-1] == 429 and 429 not in codes[:2]
    assert "Слишком много попыток" in client.post(path, data=data).text
