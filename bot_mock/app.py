"""The Bot API stand-in's Flask app: the bot's methods, the person's pages, the admin API."""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
import typing as t

from flask import Flask
from flask import Response
from flask import abort
from flask import jsonify
from flask import render_template_string
from flask import request

DEMO_TOKEN = "123456:demo-bot-token"
DEMO_USERNAME = "diary_gateway_bot"
# Telegram's documented limits: about 30 messages a second overall, and one a second per
# chat, which it enforces loosely: a short burst to one chat passes, a longer one does not.
OVERALL_PER_SECOND = 30
PER_CHAT_BURST = 3


@dataclasses.dataclass
class Sent:
    """A message the bot sent."""

    message_id: int
    chat_id: int
    text: str
    at: float
    reply_markup: t.Any = None


@dataclasses.dataclass
class BotState:
    """Everything the stand-in remembers, behind one lock."""

    token: str
    username: str
    clock: t.Callable[[], float] = time.monotonic
    updates: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    next_update: int = 1
    sent: list[Sent] = dataclasses.field(default_factory=list)
    names: dict[int, str] = dataclasses.field(default_factory=dict)
    blocked: set[int] = dataclasses.field(default_factory=set)
    # Further sendMessage calls answered 429 with this retry_after, however slow they come.
    flood: tuple[int, int] = (0, 0)
    too_many: int = 0
    recent: collections.deque[float] = dataclasses.field(default_factory=collections.deque)
    to_chat: dict[int, collections.deque[float]] = dataclasses.field(default_factory=dict)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def start(self, chat_id: int, first_name: str, param: str) -> int:
        """Queue what Telegram sends the bot when a person presses «Start» on a deep link."""
        with self.lock:
            update_id = self.next_update
            self.next_update += 1
            self.names[chat_id] = first_name
            text = f"/start {param}" if param else "/start"
            person = {"id": chat_id, "is_bot": False, "first_name": first_name}
            self.updates.append(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "from": person,
                        "chat": {**person, "type": "private"},
                        "date": int(time.time()),
                        "text": text,
                        "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
                    },
                }
            )
            return update_id

    def take_updates(self, offset: int, limit: int) -> list[dict[str, t.Any]]:
        """Confirm the updates before ``offset`` (Telegram forgets them) and return the rest."""
        with self.lock:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return list(self.updates[:limit])

    def send(self, chat_id: int, text: str, markup: t.Any) -> tuple[int, dict[str, t.Any]]:
        """Send a message, or refuse it as Telegram would."""
        with self.lock:
            now = self.clock()
            if self.flood[0] > 0:
                self.flood = (self.flood[0] - 1, self.flood[1])
                self.too_many += 1
                return _too_many(self.flood[1])
            if chat_id in self.blocked:
                return 403, _error(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self.names:
                return 400, _error(400, "Bad Request: chat not found")
            chat = self.to_chat.setdefault(chat_id, collections.deque())
            for window in (self.recent, chat):
                while window and now - window[0] >= 1.0:
                    window.popleft()
            if len(self.recent) >= OVERALL_PER_SECOND or len(chat) >= PER_CHAT_BURST:
                self.too_many += 1
                return _too_many(1)
            self.recent.append(now)
            chat.append(now)
            message = Sent(len(self.sent) + 1, chat_id, text, now, markup)
            self.sent.append(message)
            return 200, {
                "ok": True,
                "result": {
                    "message_id": message.message_id,
                    "chat": {"id": chat_id, "type": "private", "first_name": self.names[chat_id]},
                    "date": int(time.time()),
                    "text": text,
                },
            }


def _error(code: int, description: str, **parameters: t.Any) -> dict[str, t.Any]:
    body: dict[str, t.Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _too_many(retry_after: int) -> tuple[int, dict[str, t.Any]]:
    description = f"Too Many Requests: retry after {retry_after}"
    return 429, _error(429, description, retry_after=retry_after)


def _params() -> dict[str, t.Any]:
    """Read a method's parameters as Telegram does: JSON, a form or the query string."""
    data = request.get_json(silent=True)
    if isinstance(data, dict):
        return data
    return {**request.args.to_dict(), **request.form.to_dict()}


DEEP_LINK_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Telegram (демо)</title></head>
<body style="font-family:system-ui;max-width:32rem;margin:2rem auto">
<h1>@{{ username }}</h1>
{% if done %}
<p role="status">Готово: бот получил «/start». Вернитесь на страницу уведомлений шлюза.</p>
{% else %}
<p>Так выглядит бот в Telegram. Нажмите «Запустить», как в приложении.</p>
<form method="post">
<input type="hidden" name="start" value="{{ start }}">
<p><label>Ваше имя в Telegram <input name="first_name" value="Ирина" required></label></p>
<button type="submit">Запустить</button>
</form>
{% endif %}
</body></html>"""


def create_app(settings: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Build the stand-in; ``settings`` may name the bot's token and username."""
    app = Flask(__name__)
    config = dict(settings or {})
    state = BotState(
        token=str(config.get("TOKEN", DEMO_TOKEN)),
        username=str(config.get("USERNAME", DEMO_USERNAME)),
    )
    app.extensions["bot_mock"] = state

    @app.route("/bot<token>/<method>", methods=["GET", "POST"])
    def method(token: str, method: str) -> tuple[Response, int]:
        if token != state.token:
            return jsonify(_error(401, "Unauthorized")), 401
        params = _params()
        if method == "getMe":
            me = {"id": 123456, "is_bot": True, "first_name": "Дневник", "username": state.username}
            return jsonify(ok=True, result=me), 200
        if method == "getUpdates":
            offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
            return jsonify(ok=True, result=state.take_updates(offset, limit)), 200
        if method == "sendMessage":
            try:
                chat_id = int(params["chat_id"])
                text = str(params["text"])
            except (KeyError, ValueError):
                return jsonify(_error(400, "Bad Request: chat_id and text are required")), 400
            if not text.strip() or len(text) > 4096:
                return jsonify(_error(400, "Bad Request: message text is empty or too long")), 400
            status, body = state.send(chat_id, text, params.get("reply_markup"))
            return jsonify(body), status
        return jsonify(_error(404, "Not Found")), 404

    @app.route("/<username>", methods=["GET", "POST"])
    def deep_link(username: str) -> str:
        """What opening ``t.me/<bot>?start=<token>`` and pressing «Start» does."""
        if username != state.username:
            abort(404)
        param = request.values.get("start", "")
        if request.method == "POST":
            name = (request.form.get("first_name") or "Ирина").strip()[:64]
            state.start(_chat_of(name), name, param)
        page = render_template_string(
            DEEP_LINK_PAGE, username=state.username, start=param, done=request.method == "POST"
        )
        return page

    @app.post("/__admin/start")
    def admin_start() -> Response:
        data = request.get_json(force=True)
        chat_id = int(data.get("chat_id") or _chat_of(str(data.get("first_name", "Ирина"))))
        update = state.start(chat_id, str(data.get("first_name", "Ирина")), str(data["param"]))
        return jsonify(update_id=update, chat_id=chat_id)

    @app.get("/__admin/messages")
    def admin_messages() -> Response:
        with state.lock:
            sent = [dataclasses.asdict(m) for m in state.sent]
        return jsonify(messages=sent, too_many=state.too_many)

    @app.post("/__admin/chats/<int:chat_id>/block")
    def admin_block(chat_id: int) -> Response:
        with state.lock:
            state.blocked.add(chat_id)
        return jsonify(blocked=chat_id)

    @app.post("/__admin/flood")
    def admin_flood() -> Response:
        data = request.get_json(force=True)
        with state.lock:
            state.flood = (int(data["count"]), int(data["retry_after"]))
        return jsonify(ok=True)

    @app.get("/__admin/faults")
    def admin_health() -> Response:
        return jsonify(ok=True)  # answers once the stand-in is up, like the emulators

    return app


def _chat_of(name: str) -> int:
    """Give each demo name its own private chat id, the same at every press."""
    return 10_000 + sum(ord(c) * (i + 1) for i, c in enumerate(name)) % 90_000
