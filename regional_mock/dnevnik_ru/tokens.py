"""api.dnevnik.ru token endpoints: code exchange and refresh, and the password flows (§1.5)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import typing as t

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.dnevnik_ru import ids
from regional_mock.dnevnik_ru.oauth import LOCKED
from regional_mock.dnevnik_ru.oauth import WRONG
from regional_mock.dnevnik_ru.state import Token
from regional_mock.dnevnik_ru.wire import Client
from regional_mock.dnevnik_ru.wire import emulator
from regional_mock.dnevnik_ru.wire import parse_scope
from regional_mock.records import Account

bp = Blueprint("dnevnik_tokens", __name__)
MOBILE_VERSIONS = ("v6.0", "v7.0", "v8.5", "v8.6")


def _json(body: dict[str, t.Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _body() -> dict[str, str]:
    """Return the JSON or form body with lower-cased keys (clients differ in case)."""
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        raw = request.form.to_dict()
    return {str(k).lower(): "" if v is None else str(v) for k, v in raw.items()}


def _basic() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _partner(body: dict[str, str]) -> Client | None:
    """Return the partner client authenticated by the body or Basic header."""
    client_id, secret = _basic() or (body.get("client_id", ""), body.get("client_secret", ""))
    client = emulator().partners.get(client_id)
    return client if client is not None and client.client_secret == secret else None


def token_answer(token: Token) -> dict[str, t.Any]:
    """Render the ``TokenWithCode`` answer of the token endpoint."""
    return {
        "accessToken": token.access_token,
        "expiresIn": token.lifetime,
        "expiresIn_str": str(token.lifetime),
        "refreshToken": token.refresh_token,
        "scope": ",".join(token.scope),
        **ids.pair("user", "parent_user", token.account.id),
    }


@bp.post("/v2.0/authorizations")
@bp.post("/v2/authorizations")
@bp.post("/v1/authorizations")
def authorizations() -> Response:
    """Exchange an authorization code (``AuthorizationCode``) or a ``RefreshToken``."""
    body = _body()
    client = _partner(body)
    if client is None:
        return _json({"type": "invalid_client", "description": "Invalid client"}, 403)
    grant_type = body.get("grant_type", "").replace("_", "").lower()
    refresh = body.get("refreshtoken") or body.get("refresh_token") or ""
    if grant_type in ("", "notset"):
        grant_type = "refreshtoken" if refresh and not body.get("code") else "authorizationcode"
    if grant_type == "refreshtoken":
        token = emulator().state.refresh(refresh, client.client_id) if refresh else None
        if token is None:
            return _json({"error": "invalid_request", "error_description": ""}, 401)
        return jsonify(token_answer(token))
    if grant_type != "authorizationcode":
        return _json({"type": "unsupported_grant_type", "description": grant_type}, 400)
    return _exchange(client, body)


def _exchange(client: Client, body: dict[str, str]) -> Response:
    state = emulator().state
    grant, fresh = state.take_grant(body.get("code", ""))
    invalid = _json({"type": "invalid_grant", "description": "Invalid authorization code"}, 400)
    if grant is None or not fresh or grant.client_id != client.client_id:
        return invalid
    redirect_uri = body.get("redirect_uri")
    if redirect_uri and redirect_uri != grant.redirect_uri:
        return invalid
    token = state.issue(grant.account, grant.scope, client.client_id, grant=grant)
    return jsonify(token_answer(token))


def _check_password(login: str, password: str) -> tuple[Account | None, bool]:
    """Return ``(account, locked)`` for a login and password."""
    state = emulator().state
    if state.locked(login):
        return None, True
    account = emulator().world.account("dnevnik_ru", login) if login else None
    if account is None or account.password != password:
        state.fail(login)
        return None, False
    state.succeed(login)
    return account, False


@bp.post("/v2/authorizations/bycredentials")
@bp.post("/v2.0/authorizations/bycredentials")
@bp.post("/v1/authorizations/bycredentials")
def by_credentials() -> Response:
    """Serve the legacy password grant: dead since 2021 unless the config revives it."""
    failed = {"type": "authorizationFailed", "description": "Can't authorize"}
    if not emulator().legacy_bycredentials:
        return _json(failed, 401)
    body = _body()
    client = _partner(body)
    if client is None:
        return _json({"type": "invalid_client", "description": "Invalid client"}, 403)
    scope = parse_scope(body.get("scope") or ",".join(client.scope))
    if scope is None:
        return _json({"type": "parameterInvalid", "description": "Invalid scope"}, 400)
    account, locked = _check_password(body.get("username", ""), body.get("password", ""))
    if locked:
        return _json({"type": "maxAttempsExceeded", "description": LOCKED}, 401)
    if account is None:
        return _json(failed, 401)
    token = emulator().state.issue(account, scope, client.client_id)
    return jsonify(token_answer(token))


def _expires_date(token: Token) -> str:
    moment = dt.datetime.now().replace(microsecond=0) + dt.timedelta(seconds=token.lifetime)
    return moment.isoformat()


def _envelope(kind: str, description: str | None, **extra: t.Any) -> Response:
    body = {"type": kind, "description": description, "credentials": None, "reason": None}
    body |= {"teacherAppLink": None, "activationData": None}
    return jsonify(body | extra)


@bp.post("/mobile/<version>/authorizations/bycredentials")
def mobile_login(version: str) -> Response:
    """Sign in as the mobile app does; outcomes come in the ``type`` envelope with HTTP 200."""
    body = _body()
    client = emulator().mobile.get(body.get("clientid", ""))
    if version not in MOBILE_VERSIONS:
        return _json({"type": "apiResourceUnavailable", "description": "Unknown version"}, 404)
    if client is None or client.client_secret != body.get("clientsecret"):
        return _envelope("invalidRequest", "Invalid client")
    scope = parse_scope(body.get("scope") or ",".join(client.scope))
    if scope is None:
        return _envelope("parameterInvalid", "Invalid scope")
    account, locked = _check_password(body.get("username", ""), body.get("password", ""))
    if account is None:
        return _envelope("authorizationFailed", LOCKED if locked else WRONG)
    token = emulator().state.issue(account, scope, client.client_id)
    credentials = {
        "accessToken": token.access_token,
        "expiresDate": _expires_date(token),
        "refreshToken": token.refresh_token,
        "userId": ids.encode("parent_user", account.id),
        "scope": body.get("scope") or ",".join(scope),
    }
    return _envelope("Success", None, credentials=credentials, reason="Authenticate")


@bp.post("/mobile/<version>/authorizations/byrefreshtoken")
def mobile_refresh(version: str) -> Response:
    """Trade a mobile refresh token for a new pair."""
    body = _body()
    client = emulator().mobile.get(body.get("client_id", ""))
    if version not in MOBILE_VERSIONS or client is None:
        return _json({"type": "invalidRequest", "description": "Invalid client"}, 400)
    if client.client_secret != body.get("client_secret"):
        return _json({"type": "invalidRequest", "description": "Invalid client"}, 400)
    token = emulator().state.refresh(body.get("refreshtoken", ""), client.client_id)
    if token is None:
        return _json({"type": "invalidToken", "description": "Invalid refresh token"}, 401)
    return jsonify(
        {
            "accessToken": token.access_token,
            "refreshToken": token.refresh_token,
            "user": ids.encode("parent_user", token.account.id),
            "scope": ",".join(token.scope),
            "expiresDate": _expires_date(token),
        }
    )
