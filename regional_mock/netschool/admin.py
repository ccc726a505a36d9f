"""Development admin of the NetSchool emulator: change a password as the school would."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.netschool.wire import emulator

bp = Blueprint("netschool_admin", __name__, url_prefix="/__admin/netschool")


@bp.post("/password")
def change_password() -> tuple[Response, int] | Response:
    """``{"login", "password"}``: the school resets a parent's password; sessions end."""
    body = request.get_json(silent=True) or {}
    account = emulator().world.account("netschool", str(body.get("login", "")))
    password = body.get("password")
    if account is None or not isinstance(password, str) or not password:
        return jsonify(error="unknown login or empty password"), 400
    ended = emulator().state.change_password(account, password)
    return jsonify(login=account.login, sessions_ended=ended)
