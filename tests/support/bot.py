"""The Telegram Bot API stand-in (bot_mock) on a loopback port, for one test."""

from __future__ import annotations

import dataclasses
import threading
import typing as t
from collections.abc import Iterator

import pytest
import requests
from werkzeug.serving import make_server

from bot_mock import create_app
from bot_mock.app import DEMO_TOKEN
from bot_mock.app import DEMO_USERNAME
from bot_mock.app import BotState


@dataclasses.dataclass
class Bot:
    """The running stand-in: its URL, the bot's token and name, and what it remembers."""

    url: str
    state: BotState
    token: str = DEMO_TOKEN
    username: str = DEMO_USERNAME

    def settings(self) -> dict[str, t.Any]:
        """Return the gateway settings that point at this bot."""
        return {
            "TELEGRAM_TOKEN": self.token,
            "TELEGRAM_BOT": self.username,
            "TELEGRAM_API_URL": self.url,
            "TELEGRAM_LINK_URL": self.url,
        }

    def press_start(self, link: str, first_name: str = "Ирина", chat_id: int = 5001) -> None:
        """Do what opening the deep link in Telegram and pressing «Start» does."""
        param = link.split("?start=", 1)[1]
        requests.post(
            f"{self.url}/__admin/start",
            json={"chat_id": chat_id, "first_name": first_name, "param": param},
            timeout=5,
        ).raise_for_status()

    def to(self, chat_id: int) -> list[str]:
        """Return the texts the bot sent to a chat."""
        return [m.text for m in self.state.sent if m.chat_id == chat_id]


@pytest.fixture
def bot() -> Iterator[Bot]:
    """Run the Bot API stand-in on loopback for one test."""
    app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Bot(url=f"http://127.0.0.1:{server.server_port}", state=app.extensions["bot_mock"])
    finally:
        server.shutdown()
        thread.join(timeout=5)
