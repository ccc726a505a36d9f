"""login.mos.ru (СУДИР): authorize, headless password with proof of work, SMS, trust."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import typing as t
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.mesh.ids import PEOPLE
from regional_mock.mesh.state import Flow
from regional_mock.mesh.wire import emulator

bp = Blueprint("mesh_login", __name__)

FLOW_COOKIE = "sps_session"
DEVICE_COOKIE = "mos_trusted_device"
WEB_CLIENT = "dnevnik.mos.ru"
CALLBACK_PATHS = ("/v3/auth/sudir/callback", "/auth/main/callback", "/sudir")
MOBILE_REDIRECT = "dnevnik-mes://oauth2redirect"
TRUST_TITLE = "Доверять этому браузеру?"


def oauth_error(status: int, error: str, description: str) -> Response:
    """Return an OAuth 2.0 error body."""
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    return response


def login_errors(code: str, status: int = 400, **extra: t.Any) -> Response:
    """Return the headless API's ``{"errors": [{"code": …}]}`` (note §1.9)."""
    response = jsonify(errors=[{"code": code}], **extra)
    response.status_code = status
    return response


def valid_pow(stamp: str, header: str, bits: int) -> bool:
    """Check a hashcash stamp: the header plus a hex counter whose SHA-1 has ``bits`` zeros."""
    if not stamp.startswith(header) or len(stamp) == len(header):
        return False
    digest = int.from_bytes(hashlib.sha1(stamp.encode()).digest(), "big")
    return digest >> (160 - bits) == 0 if bits else True


def _redirect_ok(client_id: str, redirect_uri: str) -> bool:
    if client_id == WEB_CLIENT:
        return urlsplit(redirect_uri).path in CALLBACK_PATHS
    return redirect_uri == MOBILE_REDIRECT and emulator().state.client_secret(client_id) is not None


def _with_query(uri: str, **params: str) -> str:
    joined = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return f"{uri}{'&' if '?' in uri else '?'}{joined}"


def finish(flow: Flow) -> Response:
    """Issue the code, open the SSO session and redirect to the client's callback."""
    em = emulator()
    assert flow.account is not None
    code = em.state.issue_code(flow.account, flow)
    sso = em.state.open_sso(flow.account, em.settings.sso_seconds)
    em.state.drop_flow(flow.id)
    response = Response(status=302)
    response.headers["Location"] = _with_query(flow.redirect_uri, code=code, state=flow.state)
    response.set_cookie("Ltpatoken2", sso.value, httponly=True, secure=False)
    response.set_cookie("Ltpaexpires", str(int(sso.expires_at)))
    response.delete_cookie(FLOW_COOKIE)
    return response


@bp.get("/sps/oauth/ae")
def authorize() -> Response:
    """Start a sign-in; ``display=script`` answers JSON with the login methods (§1.1)."""
    args = request.args
    client_id, redirect_uri = args.get("client_id", ""), args.get("redirect_uri", "")
    if client_id != WEB_CLIENT and emulator().state.client_secret(client_id) is None:
        return oauth_error(400, "invalid_client", "Unknown client_id")
    if args.get("response_type") != "code" or not _redirect_ok(client_id, redirect_uri):
        return oauth_error(400, "invalid_request", "Bad response_type or redirect_uri")
    em = emulator()
    sso = em.state.sso_session(request.cookies.get("Ltpatoken2"))
    stamp = f"1:{em.settings.pow_bits}:{dt.datetime.now():%y%m%d%H%M%S}:{secrets.token_hex(8)}"
    flow = em.state.new_flow(
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=args.get("state", ""),
        code_challenge=args.get("code_challenge"),
        proof_of_work=f"{stamp}::{base64.b64encode(secrets.token_bytes(16)).decode()}:",
    )
    if sso is not None and args.get("prompt") != "login":
        flow.account = sso.account
        return finish(flow)
    if args.get("display") == "script":
        response = jsonify(items=_methods(flow))
    else:
        response = Response(_login_page(flow), content_type="text/html; charset=utf-8")
    response.set_cookie(FLOW_COOKIE, flow.id, httponly=True)
    return response


def _methods(flow: Flow) -> list[dict[str, t.Any]]:
    return [
        {"inquire": "login_with_password", "proofOfWork": flow.proof_of_work},
        {
            "inquire": "show_qr_code",
            "link": f"https://login.mos.ru/sps/login/qr/{flow.id}",
            "expires": 180,
            "logo": None,
        },
    ]


def _login_page(flow: Flow) -> str:
    return (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Вход — mos.ru</title>'
        f'<meta name="proof-of-work" content="{flow.proof_of_work}"></head><body>'
        '<form><input id="login" name="login"><input id="password" name="password" '
        'type="password"><button id="bind">Войти</button></form></body></html>'
    )


def _flow(*stages: str) -> Flow | None:
    flow = emulator().state.flow(request.cookies.get(FLOW_COOKIE))
    return flow if flow is not None and flow.stage in stages else None


@bp.post("/sps/login/methods/headless/password")
def headless_password() -> Response:
    """Check the login, password and proof of work; ask for a second factor when needed."""
    em = emulator()
    flow = _flow("password")
    body = request.get_json(silent=True) or {}
    if flow is None:
        return login_errors("expired")
    if not valid_pow(str(body.get("proofOfWork", "")), flow.proof_of_work, em.settings.pow_bits):
        return login_errors("invalid_proof_of_work")
    account = em.account(str(body.get("login", "")))
    if account is None:
        return login_errors("no_subject_found")
    key = account.login.casefold()
    if em.state.failures.get(key, 0) >= em.settings.lockout_attempts:
        return login_errors("pswd_method_temp_locked")
    if body.get("password") != account.password:
        failures = em.state.fail(key)
        if failures >= em.settings.lockout_attempts:
            return login_errors("pswd_method_temp_locked")
        return login_errors("invalid_credentials")
    em.state.succeed(key)
    flow.account = account
    if em.state.trusted(request.cookies.get(DEVICE_COOKIE), account.login):
        return finish(flow)
    flow.stage = "second_factor"
    second = ("ask_to_send_sms", "login_with_flashcall", "go_to_web")
    return jsonify(inquire="choose_one", items=[{"inquire": x} for x in second])


def masked_phone(holder: str) -> tuple[str, str]:
    """Return the holder's phone and its masked form ``+7 900 ***-**-01``."""
    phone = PEOPLE.get(holder, (None, "", "9000000000"))[2]
    return f"+7{phone}", f"+7 {phone[:3]} ***-**-{phone[-2:]}"


@bp.post("/sps/login/methods/headless/sms/bind")
def sms_bind() -> Response:
    """Send the SMS (empty form) or check ``sms-code``; 303 to askToTrust on success."""
    em = emulator()
    flow = _flow("second_factor", "sms")
    if flow is None or flow.account is None:
        return login_errors("expired")
    code = request.form.get("sms-code")
    now = em.state.clock()
    if code is None:
        phone, masked = masked_phone(flow.account.holder)
        em.state.send_sms(phone, em.settings.sms_code)
        flow.stage, flow.sms_expires_at = "sms", now + 300
        flow.remain_attempts = em.settings.sms_attempts
        return jsonify(
            inquire="enter_sms_code", contact=masked, ttl=300, remain_attempts=flow.remain_attempts
        )
    if flow.stage != "sms" or now >= flow.sms_expires_at:
        em.state.drop_flow(flow.id)
        return login_errors("expired")
    if code.strip() != em.settings.sms_code:
        flow.remain_attempts -= 1
        if flow.remain_attempts <= 0:
            em.state.drop_flow(flow.id)
            return login_errors("no_attempts", remain_attempts=0)
        return login_errors("invalid_otp", remain_attempts=flow.remain_attempts)
    flow.stage = "trust"
    response = Response(_trust_page(), 303, content_type="text/html; charset=utf-8")
    response.headers["Location"] = "/sps/login/ur/askToTrust"
    return response


def _trust_page() -> str:
    return (
        f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>{TRUST_TITLE}</title>'
        '</head><body><form method="post" action="/sps/login/ur/askToTrust">'
        '<button name="action" value="trust">Доверять</button>'
        '<button name="action" value="do_not_trust">Не доверять</button></form></body></html>'
    )


@bp.get("/sps/login/ur/askToTrust")
def ask_to_trust_page() -> Response:
    """Show the «trust this browser?» page."""
    if _flow("trust") is None:
        return Response("Not Found", 404, content_type="text/plain; charset=utf-8")
    return Response(_trust_page(), content_type="text/html; charset=utf-8")


@bp.post("/sps/login/ur/askToTrust")
def ask_to_trust() -> Response:
    """Take ``action=trust|do_not_trust``; ``trust=true`` gives 404 and kills the login."""
    em = emulator()
    flow = _flow("trust")
    action = request.form.get("action")
    if action is None and request.form.get("trust") == "true" and em.settings.legacy_trust:
        action = "trust"
    if flow is None or action not in ("trust", "do_not_trust"):
        if flow is not None:
            em.state.drop_flow(flow.id)
        return Response("Not Found", 404, content_type="text/plain; charset=utf-8")
    assert flow.account is not None
    response = finish(flow)
    if action == "trust":
        device = em.state.trust_device(flow.account.login)
        response.set_cookie(DEVICE_COOKIE, device, max_age=90 * 24 * 3600, httponly=True)
    return response
