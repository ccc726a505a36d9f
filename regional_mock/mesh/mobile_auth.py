"""login.mos.ru's mobile OAuth (route B, §1.2): client registration and the token endpoint."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.mesh.login import MOBILE_REDIRECT
from regional_mock.mesh.login import oauth_error
from regional_mock.mesh.school_auth import pkce_ok
from regional_mock.mesh.state import Token
from regional_mock.mesh.wire import emulator

bp = Blueprint("mesh_mobile_auth", __name__)

SCOPE = "openid profile birthday contacts snils blitz_user_rights blitz_change_password"
MOS_TOKEN_SECONDS = 3600
MOS_REFRESH_SECONDS = 30 * 24 * 3600


@bp.post("/sps/oauth/register")
def register() -> Response:
    """Register a mobile client; any registration bearer token is accepted here."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return oauth_error(401, "invalid_token", "Registration token required")
    body = request.get_json(silent=True) or {}
    client_id, secret = emulator().state.register_client()
    return jsonify(
        client_id=client_id,
        client_secret=secret,
        client_secret_expires_at=0,
        device_type=body.get("device_type", "android_phone"),
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[MOBILE_REDIRECT],
        registration_access_token=client_id,
        registration_client_uri=f"{request.host_url}sps/oauth/register/{client_id}",
        response_types=["code"],
        scope=SCOPE,
        software_id=body.get("software_id", "dnevnik.mos.ru"),
        software_version="1",
        token_endpoint_auth_method="client_secret_basic",
    )


def _client() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    known = emulator().state.client_secret(client_id)
    return client_id if known is not None and known == secret else None


@bp.post("/sps/oauth/te")
def token() -> Response:
    """Exchange a code (with PKCE) or a refresh token for a mos.ru token pair."""
    client_id = _client()
    if client_id is None:
        return oauth_error(401, "invalid_client", "Client authentication failed")
    params = {**request.args.to_dict(), **request.form.to_dict()}
    state = emulator().state
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        grant = state.take_code(params.get("code", ""))
        if grant is None or grant.client_id != client_id:
            return oauth_error(400, "invalid_grant", "Unknown or expired code")
        if params.get("redirect_uri") != grant.redirect_uri:
            return oauth_error(400, "invalid_grant", "redirect_uri mismatch")
        if not pkce_ok(grant.code_challenge, params.get("code_verifier")):
            return oauth_error(400, "invalid_grant", "PKCE verification failed")
        account = grant.account
    elif grant_type == "refresh_token":
        old = state.mos_token("refresh:" + params.get("refresh_token", ""))
        if old is None:
            return oauth_error(400, "invalid_grant", "Unknown or expired refresh token")
        account = old.account
    else:
        return oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
    access = state.issue_mos_token(account, MOS_TOKEN_SECONDS)
    refresh = state.issue_mos_token(account, MOS_REFRESH_SECONDS, prefix="refresh:")
    return _pair(access, refresh)


def _pair(access: Token, refresh: Token) -> Response:
    return jsonify(
        access_token=access.value,
        expires_in=MOS_TOKEN_SECONDS,
        id_token=access.value,
        refresh_token=refresh.value,
        scope=SCOPE,
        token_type="Bearer",
    )
