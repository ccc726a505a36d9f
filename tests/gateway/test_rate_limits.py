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


@pytest.fixture
def limited_applications(make_app: t.Callable[..., Flask], school: FakeSchool) -> t.Iterator[Flask]:
    """A fake-connector app whose application form takes one attempt a minute."""
    app = build_fake_app(make_app, RATELIMIT_ENABLED=True, LIMIT_APPLICATIONS="1 per minute")
    limiter.reset()
    yield app
    limiter.reset()


def test_a_limited_link_form_comes_back_with_what_was_typed_and_when_to_retry(
    limited: Flask,
) -> None:
    client = signed_in(limited, make_parent(limited))
    data = {"login": "parent", "password": "wrong-secret", "name": "Анечка"}
    for _ in range(2):
        client.post("/children/link/test-fake", data=data)
    refused = client.post("/children/link/test-fake", data=data)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    assert "попробуйте снова через 1 мин." in refused.text
    assert 'value="parent"' in refused.text and 'value="Анечка"' in refused.text
    assert "wrong-secret" not in refused.text
    assert "Проверить и привязать" in refused.text


def test_a_limited_application_comes_back_without_the_document_numbers(
    limited_applications: Flask,
) -> None:
    from tests.gateway.test_applications import FORM

    client = signed_in(limited_applications, make_parent(limited_applications))
    data = {**FORM, "instance": "test-fake"}
    client.post("/children/applications/new", data=data)
    refused = client.post("/children/applications/new", data=data)
    assert refused.status_code == 429 and "попробуйте снова через 1 мин." in refused.text
    for kept in ("Новикова София Павловна", "МБОУ Лицей № 3 г. Самары", "8 «А»", "2012-10-05"):
        assert kept in refused.text
    assert "703512" not in refused.text and "918273" not in refused.text
