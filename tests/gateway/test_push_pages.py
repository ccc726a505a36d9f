"""The browser's side of Web Push as the page's script uses it, CSRF on: the preferences
page offers it with the gateway's VAPID key; a subscription posted as JSON is kept as one
device, refused by name when any part is wrong; a device is removed only by its owner.
The manifest and the service worker make the site installable."""

from __future__ import annotations

import html
import re
import struct
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import PushSubscription
from gateway.services import push
from tests.gateway.conftest import FAKE_CLASSES
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.services.test_push import CHROME_ANDROID
from tests.support.push import Browser
from tests.support.push import b64

REFUSED = "Браузер прислал подписку, которую шлюз не может принять."


@pytest.fixture
def app(make_app: t.Callable[..., Flask]) -> Flask:
    """A gateway with CSRF on, as browsers meet it."""
    return make_app(CONNECTOR_CLASSES=FAKE_CLASSES)


@pytest.fixture
def maria(app: Flask) -> FlaskClient:
    return signed_in(app, make_parent(app, "maria", "Иванова Мария", email="m@example.ru"))


def _box(client: FlaskClient) -> dict[str, str]:
    page = client.get("/notifications/").text
    found = re.search(r'<div id="push"([^>]*)>', page)
    assert found is not None, "no push controls on the page"
    return {k: html.unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', found[1])}


def _post(client: FlaskClient, url: str, body: object, *, csrf: str | None) -> t.Any:
    headers = {"User-Agent": CHROME_ANDROID}
    if csrf is not None:
        headers["X-CSRFToken"] = csrf
    return client.post(url, json=body, headers=headers)


def _devices(app: Flask) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.execute(select(PushSubscription.user_id, PushSubscription.endpoint))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_page_offers_push_with_the_gateways_key_and_its_script(
    app: Flask, maria: FlaskClient
) -> None:
    box = _box(maria)
    assert box["key"] == push.application_server_key(app.config["VAPID_KEY"])
    assert (box["subscribe"], box["forget"]) == (
        "/notifications/push",
        "/notifications/push/forget",
    )
    page = maria.get("/notifications/").text
    assert '<script src="/static/push.js" defer></script>' in page
    assert "Куда приходят" not in page  # no device yet


def test_a_subscription_is_kept_as_one_device_listed_with_a_remove_button(
    app: Flask, maria: FlaskClient
) -> None:
    box = _box(maria)
    browser = Browser(endpoint="https://fcm.googleapis.com/fcm/send/abc")
    reply = _post(maria, box["subscribe"], browser.subscription(), csrf=box["csrf"])
    assert reply.status_code == 201 and reply.json == {"device": "Chrome, Android"}
    assert (
        _post(maria, box["subscribe"], browser.subscription(), csrf=box["csrf"]).status_code == 201
    )
    assert [endpoint for _, endpoint in _devices(app)] == [browser.endpoint]
    page = maria.get("/notifications/").text
    assert "Куда приходят" in page and "Chrome, Android, с " in page
    assert re.search(r'action="/notifications/devices/\d+/remove"', page)


def test_without_the_pages_csrf_token_nothing_is_kept(app: Flask, maria: FlaskClient) -> None:
    box = _box(maria)
    browser = Browser(endpoint="https://fcm.googleapis.com/fcm/send/abc")
    for token in (None, "forged"):
        assert _post(maria, box["subscribe"], browser.subscription(), csrf=token).status_code == 400
    assert _devices(app) == []


def _broken(part: str) -> object:
    good = Browser(endpoint="https://fcm.googleapis.com/fcm/send/abc").subscription()
    broken: dict[str, object] = {
        "not an object": ["endpoint"],
        "no endpoint": {"keys": good["keys"]},
        "an endpoint that is no URL": good | {"endpoint": "push me"},
        "a plain HTTP endpoint": good | {"endpoint": "http://push.example.ru/x"},
        "an endpoint inside our network": good | {"endpoint": "https://127.0.0.1/push/x"},
        "no keys": {"endpoint": good["endpoint"]},
        "a key off the curve": good
        | {"keys": {**good["keys"], "p256dh": b64(b"\x04" + b"1" * 64)}},
        "a short auth secret": good | {"keys": {**good["keys"], "auth": b64(b"short")}},
    }
    return broken[part]


@pytest.mark.parametrize(
    "part",
    [
        "not an object",
        "no endpoint",
        "an endpoint that is no URL",
        "a plain HTTP endpoint",
        "an endpoint inside our network",
        "no keys",
        "a key off the curve",
        "a short auth secret",
    ],
)
def test_a_broken_subscription_is_refused_with_a_message_and_nothing_kept(
    app: Flask, maria: FlaskClient, part: str
) -> None:
    app.config["ALLOW_PRIVATE_BACKENDS"] = False  # as in production
    box = _box(maria)
    reply = _post(maria, box["subscribe"], _broken(part), csrf=box["csrf"])
    assert reply.status_code == 400 and reply.json == {"error": REFUSED}
    assert _devices(app) == []


def test_a_body_that_is_not_json_is_refused_the_same(app: Flask, maria: FlaskClient) -> None:
    box = _box(maria)
    reply = maria.post(box["subscribe"], data="endpoint=x", headers={"X-CSRFToken": box["csrf"]})
    assert reply.status_code == 400 and reply.json == {"error": REFUSED}


def test_a_signed_out_browser_cannot_subscribe(app: Flask) -> None:
    anonymous = app.test_client()
    anonymous.get("/")
    reply = anonymous.post("/notifications/push", json={})
    assert reply.status_code == 400  # no session, so no CSRF token either
    assert _devices(app) == []


def test_a_gateway_without_a_vapid_key_says_so_and_keeps_nothing(
    app: Flask, maria: FlaskClient
) -> None:
    csrf = _box(maria)["csrf"]
    app.config["VAPID_KEY"] = None
    page = maria.get("/notifications/").text
    assert 'id="push"' not in page
    assert "Уведомления в браузере на этом сервере не настроены." in page
    browser = Browser(endpoint="https://fcm.googleapis.com/fcm/send/abc")
    assert _post(maria, "/notifications/push", browser.subscription(), csrf=csrf).status_code == 404
    assert _devices(app) == []


def _two_people_with_a_device_each(
    app: Flask, maria: FlaskClient
) -> tuple[FlaskClient, Browser, Browser, int]:
    olga = signed_in(app, make_parent(app, "olga", "Петрова Ольга"))
    mine, hers = (Browser(endpoint=f"https://push.example.ru/{n}") for n in ("m", "o"))
    _post(maria, "/notifications/push", mine.subscription(), csrf=_box(maria)["csrf"])
    _post(olga, "/notifications/push", hers.subscription(), csrf=_box(olga)["csrf"])
    with app.app_context():
        her_device = db.session.scalars(
            select(PushSubscription.id).where(PushSubscription.endpoint == hers.endpoint)
        ).one()
    return olga, mine, hers, her_device


def test_a_browser_turned_off_is_forgotten_but_never_someone_elses(
    app: Flask, maria: FlaskClient
) -> None:
    _, mine, hers, _ = _two_people_with_a_device_each(app, maria)
    csrf = _box(maria)["csrf"]
    assert (
        _post(
            maria, "/notifications/push/forget", {"endpoint": hers.endpoint}, csrf=csrf
        ).status_code
        == 204
    )
    assert (
        _post(
            maria, "/notifications/push/forget", {"endpoint": mine.endpoint}, csrf=csrf
        ).status_code
        == 204
    )
    assert [endpoint for _, endpoint in _devices(app)] == [hers.endpoint]
    for body in ({}, {"endpoint": ""}, {"endpoint": 5}, ["x"]):
        reply = _post(maria, "/notifications/push/forget", body, csrf=csrf)
        assert reply.status_code == 400 and "error" in reply.json


def test_a_device_is_removed_from_the_list_by_its_owner_only(
    app: Flask, maria: FlaskClient
) -> None:
    _, mine, hers, her_device = _two_people_with_a_device_each(app, maria)
    page = maria.get("/notifications/").text
    action = re.search(r'action="(/notifications/devices/\d+/remove)"', page)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert action is not None and token is not None
    assert maria.post(action[1], data={}).status_code == 400  # no CSRF token
    theirs = maria.post(
        f"/notifications/devices/{her_device}/remove", data={"csrf_token": token[1]}
    )
    assert theirs.status_code == 404
    reply = maria.post(action[1], data={"csrf_token": token[1]})
    assert reply.status_code == 303 and reply.headers["Location"] == "/notifications/"
    assert "Устройство больше не получит уведомлений." in maria.get("/notifications/").text
    assert [endpoint for _, endpoint in _devices(app)] == [hers.endpoint]
    assert maria.post(action[1], data={"csrf_token": token[1]}).status_code == 404  # gone


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_manifest_makes_the_site_installable_in_the_readers_language(
    app: Flask, language: str
) -> None:
    client = app.test_client()
    client.get(f"/lang/{language}")
    reply = client.get("/manifest.webmanifest")
    assert reply.mimetype == "application/manifest+json"
    manifest = reply.json
    assert manifest["name"] == {"ru": "Дневники семьи", "en": "Family diaries"}[language]
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["lang"] == language
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png"
        width, height = _png_size(image.data)
        assert f"{width}x{height}" == icon["sizes"]
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    assert '<link rel="manifest" href="/manifest.webmanifest">' in client.get("/").text


def test_the_service_worker_is_served_from_the_root_and_never_kept_stale(app: Flask) -> None:
    reply = app.test_client().get("/sw.js")
    assert reply.status_code == 200 and reply.mimetype == "text/javascript"
    assert reply.headers["Cache-Control"] == "no-cache"
    source = reply.get_data(as_text=True)
    assert 'addEventListener("push"' in source and 'addEventListener("notificationclick"' in source
