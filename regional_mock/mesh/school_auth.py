"""school.mos.ru auth glue: the СУДИР callback, mobile token exchange, refresh, logout."""

from __future__ import annotations

import base64
import hashlib

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.mesh.people import parent_person
from regional_mock.mesh.state import Token
from regional_mock.mesh.wire import Emulator
from regional_mock.mesh.wire import api_error
from regional_mock.mesh.wire import emulator
from regional_mock.mesh.wire import presented_tokens
from regional_mock.mesh.wire import require_token
from regional_mock.records import Account

bp = Blueprint("mesh_school_auth", __name__)

DAY = 24 * 3600


def issue(em: Emulator, account: Account) -> tuple[Token, Token]:
    """Issue an ``aupd_token`` JWT and its refresh token for a parent."""
    claims: dict[str, object] = {
        "iss": "https://school.mos.ru",
        "sub": str(em.ids.parent_user_id(account)),
        "aud": "2:1",
        "msh": em.ids.parent_person_id(account),
        "sso": em.ids.parent_person_id(account),
        "rol": "parent",
    }
    lifetimes = (em.settings.token_seconds, em.settings.refresh_seconds)
    return em.state.issue_mesh(account, claims, lifetimes)


def set_token_cookies(response: Response, access: Token, refresh: Token) -> Response:
    """Set the ``aupd_token`` and ``aupd_refresh_token`` cookies (§1.1 step 3)."""
    em = emulator()
    response.set_cookie("aupd_token", access.value, max_age=int(em.settings.token_seconds))
    response.set_cookie(
        "aupd_refresh_token", refresh.value, max_age=int(em.settings.refresh_seconds), httponly=True
    )
    return response


def pkce_ok(challenge: str | None, verifier: str | None) -> bool:
    """Check an S256 code verifier against the challenge (no challenge: nothing to check)."""
    if not challenge:
        return True
    if not verifier:
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=") == challenge


@bp.get("/v3/auth/sudir/callback")
@bp.get("/auth/main/callback")
def callback() -> Response:
    """Exchange the code for the ``aupd_token`` cookies and go to the diary."""
    em = emulator()
    grant = em.state.take_code(request.args.get("code", ""))
    if grant is None or grant.client_id != "dnevnik.mos.ru":
        return Response("Ошибка авторизации", 400, content_type="text/plain; charset=utf-8")
    access, refresh = issue(em, grant.account)
    response = Response(status=302)
    response.headers["Location"] = "/"
    return set_token_cookies(response, access, refresh)


@bp.post("/v3/auth/sudir/auth")
def sudir_auth() -> Response:
    """Exchange a mos.ru access token for a MESH token (mobile route, §1.2 step 3)."""
    em = emulator()
    body = request.get_json(silent=True) or {}
    inner = body.get("user_authentication_for_mobile_request") or {}
    mos = em.state.mos_token(str(inner.get("mos_access_token", "")))
    if mos is None:
        return api_error(401, "Invalid mos_access_token")
    access, _ = issue(em, mos.account)
    answer = {
        "mesh_access_token": access.value,
        "mesh_id": em.ids.parent_person_id(mos.account),
        "obr_id": em.ids.parent_user_id(mos.account),
        "request_parameters": {},
        "sso_id": em.ids.parent_person_id(mos.account),
        "user_authentication_result": "SUCCESS",
    }
    return jsonify(user_authentication_for_mobile_response=answer)


@bp.post("/v3/token/refresh")
def refresh_v3() -> Response:
    """Rotate the pair from the ``aupd_refresh_token`` cookie; each pair works once (§1.8)."""
    em = emulator()
    old = em.state.take_refresh(request.cookies.get("aupd_refresh_token", ""))
    if old is None:
        return api_error(401, "Refresh token is invalid or expired")
    access, refresh = issue(em, old.account)
    response = jsonify(access_token=access.value, refresh_token=refresh.value)
    return set_token_cookies(response, access, refresh)


@bp.get("/v2/token/refresh")
def refresh_v2() -> Response:
    """Return the same JWT while it lives (201); 499 without role parameters (§1.8)."""
    em = emulator()
    token = next((x for x in map(em.state.mesh_token, presented_tokens()) if x), None)
    if token is None:
        return Response("Forbidden", 403, content_type="text/plain; charset=utf-8")
    if not (request.args.get("roleId") or request.args.get("role")):
        return Response("user roles insufficient", 499, content_type="text/plain; charset=utf-8")
    return Response(token.value, 201, content_type="text/plain; charset=utf-8")


@bp.get("/v3/auth/logout")
def logout() -> Response:
    """End the MESH session and drop its cookies."""
    em = emulator()
    for value in presented_tokens():
        em.state.revoke(value)
    response = Response(status=302)
    response.headers["Location"] = "/"
    response.delete_cookie("aupd_token")
    response.delete_cookie("aupd_refresh_token")
    return response


@bp.get("/v3/userinfo")
def userinfo() -> Response:
    """Describe the signed-in user and roles (§1.6 d)."""
    token = require_token()
    person = parent_person(token.account)
    info = {
        "FirstName": person["first_name"],
        "LastName": person["last_name"],
        "MiddleName": person["middle_name"],
        "birthdate": person["birth_date"],
        "mail": person["email"],
        "mobile": person["phone"],
        "gender": person["sex"],
        "guid": emulator().ids.parent_person_id(token.account),
        "snils": person["snils"],
        "trusted": True,
        "failed": False,
        "error": None,
    }
    subsystem = {"id": 1, "title": "Дневник", "url": "https://school.mos.ru/diary"}
    subsystem |= {"mnemonic": "familyweb", "description": "", "is_mobile": False, "sort_order": 1}
    roles = [{"id": 2, "title": "Родитель", "subsystems": [subsystem]}]
    body = {"userId": emulator().ids.parent_user_id(token.account), "isAdActivated": False}
    body |= {"info": info, "roles": roles, "savedChoice": 2, "notification": False}
    return jsonify({**body, "login": token.account.login})
