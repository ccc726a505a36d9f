"""Dnevnik.ru's own faces of the shared faults, API 404/405 bodies and the error-style switch.

The shared fault modes keep their status codes and timing; only the bodies change to what
Dnevnik.ru clients see: the maintenance page carries ``<div class="error__description"><p>``
with ``Content-Type: text/html`` exactly (pydnevnikruapi compares the header verbatim), and
a 429 carries ``{"type": "apiRequestLimit"}`` (note §1.6, §3.7).

``GET /__admin/dnevnik`` shows ``{"spelling", "errors_with_200"}``; ``POST`` changes them.
"""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException

from regional_mock import faults
from regional_mock.dnevnik_ru.wire import emulator
from regional_mock.dnevnik_ru.wire import error_body

# The description paragraph ends the document (optional end tags left out) because
# pydnevnikruapi cuts the text as ``split("<p>")[1].strip()[:-4]``.
MAINTENANCE_PAGE = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Дневник.ру — технические работы</title></head>
<body><div class="error"><h1 class="error__title">Технические работы</h1>
<div class="error__description"><p>Сайт временно недоступен: ведутся технические работы.
Попробуйте зайти позже.</p>
"""
API = ("/v1/", "/v2/", "/v2.0/", "/mobile/")


def _dnevnik_faces(response: Response) -> Response:
    """Give the shared fault responses Dnevnik.ru's bodies."""
    if request.path.startswith("/__admin") or response.direct_passthrough:
        return response
    if (
        response.mimetype == "text/html"
        and response.get_data(as_text=True) == faults.MAINTENANCE_PAGE
    ):
        response.set_data(MAINTENANCE_PAGE)
        response.headers["Content-Type"] = "text/html"
    elif response.status_code == 429 and response.headers.get("Retry-After"):
        body, _ = error_body("requestLimit")
        response.set_data(jsonify(body).get_data())
    return response


def _api_error(err: HTTPException) -> Response | HTTPException:
    """Answer unknown API paths and methods with Dnevnik.ru's error body."""
    if not request.path.startswith(API):
        return err
    body, status = error_body("methodNotSupported" if err.code == 405 else "resourceUnavailable")
    response = jsonify(body)
    response.status_code = status
    return response


def show_style() -> Response:
    """Return the error style."""
    return jsonify(emulator().errors.as_dict())


def set_style() -> tuple[Response, int] | Response:
    """Change the error style from ``{"spelling": "short"|"long", "errors_with_200": bool}``."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) - {"spelling", "errors_with_200"}:
        return jsonify(error="expected {spelling, errors_with_200}"), 400
    with_200 = body.get("errors_with_200")
    if with_200 is not None and not isinstance(with_200, bool):
        return jsonify(error="errors_with_200 must be a boolean"), 400
    try:
        emulator().errors.update(spelling=body.get("spelling"), with_200=with_200)
    except ValueError as err:
        return jsonify(error=str(err)), 400
    return jsonify(emulator().errors.as_dict())


def install(app: Flask) -> None:
    """Wire the fault faces, the API error handlers and the error-style admin endpoint."""
    app.after_request(_dnevnik_faces)
    app.register_error_handler(404, _api_error)
    app.register_error_handler(405, _api_error)
    if app.config.get("EMULATOR_ADMIN", True):
        app.add_url_rule("/__admin/dnevnik", "dnevnik_style", show_style, methods=["GET"])
        app.add_url_rule("/__admin/dnevnik", "dnevnik_style_set", set_style, methods=["POST"])
