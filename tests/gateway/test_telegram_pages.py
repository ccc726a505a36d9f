"""Telegram on the preferences page, CSRF on: connecting shows a one-time deep link to the
configured bot; pressing «Start» with it binds the chat; disconnecting stops the messages;
a gateway without a bot offers none of it."""

from __future__ import annotations

import html
import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from gateway import jobs
from gateway.extensions import db
from gateway.models import TelegramChat
from tests.gateway.conftest import FAKE_CLASSES
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.support.bot import Bot


@pytest.fixture
def app(make_app: t.Callable[..., Flask], bot: Bot) -> Flask:
    return make_app(CONNECTOR_CLASSES=FAKE_CLASSES, **bot.settings())


@pytest.fixture
def maria(app: Flask) -> FlaskClient:
    return signed_in(app, make_parent(app, "maria", "Иванова Мария"))


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found is not None
    return found[1]


def _connect(client: FlaskClient) -> str:
    """Press «Подключить Telegram»; return the deep link the page shows."""
    page = client.get("/notifications/").text
    assert "Подключить Telegram" in page
    reply = client.post("/notifications/telegram/connect", data={"csrf_token": _token(page)})
    assert reply.status_code == 200
    found = re.search(r'<a class="button" href="([^"]+)"', reply.text)
    assert found is not None
    return html.unescape(found[1])


def test_connecting_shows_a_one_time_link_to_the_bot_that_binds_the_chat(
    app: Flask, maria: FlaskClient, bot: Bot
) -> None:
    link = _connect(maria)
    assert re.fullmatch(rf"{bot.url}/{bot.username}\?start=[A-Za-z0-9_-]{{32}}", link)
    bot.press_start(link, first_name="Мария")
    with app.app_context():
        assert jobs.receive_telegram() == 1
    page = maria.get("/notifications/").text
    assert "Уведомления приходят в чат с ботом (Мария)." in page
    assert "Отключить Telegram" in page


def test_without_the_csrf_token_no_link_is_made(app: Flask, maria: FlaskClient) -> None:
    assert maria.post("/notifications/telegram/connect", data={}).status_code == 400
    assert maria.post("/notifications/telegram/disconnect", data={}).status_code == 400


def test_disconnecting_stops_the_messages_and_offers_connecting_again(
    app: Flask, maria: FlaskClient, bot: Bot
) -> None:
    bot.press_start(_connect(maria))
    with app.app_context():
        jobs.receive_telegram()
    page = maria.get("/notifications/").text
    reply = maria.post("/notifications/telegram/disconnect", data={"csrf_token": _token(page)})
    assert reply.status_code == 303 and reply.headers["Location"] == "/notifications/"
    again = maria.get("/notifications/").text
    assert "Telegram отключён: сообщений туда больше не будет." in again
    assert "Подключить Telegram" in again


def test_a_chat_that_blocked_the_bot_is_said_so(app: Flask, maria: FlaskClient, bot: Bot) -> None:
    bot.press_start(_connect(maria))
    with app.app_context():
        jobs.receive_telegram()
        db.session.execute(update(TelegramChat).values(active=False))
        db.session.commit()
    page = maria.get("/notifications/").text
    assert "Бот заблокирован в Telegram" in page and "Подключить Telegram" in page


def test_a_gateway_without_a_bot_offers_no_telegram(app: Flask, maria: FlaskClient) -> None:
    page = maria.get("/notifications/").text
    app.config["TELEGRAM_TOKEN"] = None
    assert "Подключить Telegram" not in maria.get("/notifications/").text
    reply = maria.post("/notifications/telegram/connect", data={"csrf_token": _token(page)})
    assert reply.status_code == 404
