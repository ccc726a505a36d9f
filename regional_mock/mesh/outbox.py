"""Development pages: the SMS outbox (codes «sent» by login.mos.ru) and the home page."""

from __future__ import annotations

from html import escape

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.mesh.wire import emulator

admin = Blueprint("mesh_outbox", __name__)
bp = Blueprint("mesh_home", __name__)


@admin.get("/__admin/outbox")
def outbox() -> Response:
    """List the text messages sent, newest first: HTML, or JSON when asked for."""
    messages = list(reversed(emulator().state.outbox))
    rows = [
        {"phone": m.phone, "code": m.code, "text": m.text, "sent_at": m.sent_at.isoformat()}
        for m in messages
    ]
    wants_json = request.args.get("format") == "json" or (
        request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
    )
    if wants_json:
        return jsonify(messages=rows)
    items = "".join(
        f"<tr><td>{escape(r['sent_at'])}</td><td>{escape(r['phone'])}</td>"
        f"<td><b>{escape(r['code'])}</b></td><td>{escape(r['text'])}</td></tr>"
        for r in rows
    )
    page = (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
        "<title>МЭШ: отправленные SMS</title></head><body><h1>Отправленные SMS</h1>"
        "<table><tr><th>Время</th><th>Телефон</th><th>Код</th><th>Текст</th></tr>"
        f"{items}</table></body></html>"
    )
    return Response(page, content_type="text/html; charset=utf-8")


@bp.get("/")
def home() -> Response:
    """Stand in for the diary page the СУДИР callback lands on."""
    page = (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Школьный портал'
        "</title></head><body><h1>Школьный портал Москвы (эмулятор МЭШ)</h1></body></html>"
    )
    return Response(page, content_type="text/html; charset=utf-8")
