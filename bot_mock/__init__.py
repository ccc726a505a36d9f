"""A stand-in for the Telegram Bot API, so that the demo and the tests run the Telegram
channel end to end over HTTP without Telegram.

It speaks the Bot API's wire format (``POST /bot<token>/<method>``, ``{"ok": ..., "result"
| "error_code", "description", "parameters"}``) for the methods the gateway uses, keeps every
message the bot sends, and plays the person's side: opening a ``t.me/<bot>?start=<token>``
deep link and pressing «Start» queues the ``/start <token>`` update. Like Telegram it
answers 403 to a chat that blocked the bot and 429 with ``retry_after`` beyond about 30
messages a second overall or one a second per chat.
"""

from __future__ import annotations

from bot_mock.app import create_app

__all__ = ["create_app"]
