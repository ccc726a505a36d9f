"""Serve the OpenID endpoints: discovery, JWKS, authorize, consent, token, userinfo."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import sqlalchemy as sa
from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import scope_to_list
from authlib.oidc.core.errors import ConsentRequiredError
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from idp_mock import clock
from idp_mock import i18n
from idp_mock import signin
from idp_mock.claims import CLAIMS_SUPPORTED
from idp_mock.claims import SCOPE_TEXT
from idp_mock.claims import SCOPES_SUPPORTED
from idp_mock.clients import AUTH_METHODS
from idp_mock.database import db
from idp_mock.extensions import csrf_exempt
from idp_mock.faults import AUTHORIZATION_FAULTS
from idp_mock.forms import DecisionForm
from idp_mock.keys import ALGORITHM
from idp_mock.models import Consent
from idp_mock.oauth2 import EXTENSION
from idp_mock.oauth2 import CodeGrant
from idp_mock.oauth2 import Server
from idp_mock.runtime import provider
from idp_mock.tokens import WRONG_ISSUER

bp = Blueprint("provider", __name__)

__all__ = ["bp", "provider", "server"]


def server() -> Server:
    """Return the authorization server of the current app."""
    return t.cast(Server, current_app.extensions[EXTENSION + ".server"])


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    """Publish exactly what this provider supports."""
    issuer = provider().issuer
    return jsonify(
        issuer=issuer,
        authorization_endpoint=issuer + "/authorize",
        token_endpoint=issuer + "/token",
        userinfo_endpoint=issuer + "/userinfo",
        jwks_uri=issuer + "/jwks",
        end_session_endpoint=issuer + "/logout",
        revocation_endpoint=issuer + "/revoke",
        introspection_endpoint=issuer + "/introspect",
        scopes_supported=list(SCOPES_SUPPORTED),
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code", "refresh_token"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=[ALGORITHM],
        token_endpoint_auth_methods_supported=list(AUTH_METHODS),
        revocation_endpoint_auth_methods_supported=list(AUTH_METHODS),
        introspection_endpoint_auth_methods_supported=list(AUTH_METHODS),
        code_challenge_methods_supported=["S256"],
        claims_supported=list(CLAIMS_SUPPORTED),
        claims_parameter_supported=False,
        request_parameter_supported=False,
        request_uri_parameter_supported=False,
        authorization_response_iss_parameter_supported=True,
        ui_locales_supported=list(i18n.LOCALES),
        prompt_values_supported=["none", "login", "consent"],
        backchannel_logout_supported=True,
        backchannel_logout_session_supported=True,
    )


@bp.get("/jwks")
def jwks() -> Response:
    """Publish the public signing keys, each with its kid (plus a fault's decoy, if any)."""
    document = provider().keys.public_jwks()
    document["keys"].extend(provider().faults.public_decoys())
    return jsonify(document)


@bp.get("/authorize")
def authorize() -> t.Any:
    """Validate the request, then sign in, then consent, then redirect back with a code."""
    i18n.adopt(request.args.get("ui_locales"))
    signed_in = signin.current()
    fresh = signin.consume_fresh()
    if signed_in is not None and not fresh and must_reauthenticate(signed_in):
        # Treated as signed out: prompt=none then fails with login_required (authlib's check).
        signed_in = None
    try:
        grant = server().get_consent_grant(end_user=signed_in.person if signed_in else None)
    except OAuth2Error as error:
        return authorization_error(error)
    if signed_in is None:
        return redirect(_login_url())
    if consent_given(grant, signed_in.person.id) and "consent" not in _prompts():
        return finish(grant, signed_in, allowed=True)
    if "none" in _prompts():
        return authorization_error(ConsentRequiredError(redirect_uri=grant.redirect_uri))
    return redirect(url_for(".consent") + "?" + request.query_string.decode())


def _prompts() -> list[str]:
    return (request.args.get("prompt") or "").split()


def must_reauthenticate(signed_in: signin.SignedIn) -> bool:
    """Tell whether prompt=login or an exceeded max_age asks for a new sign-in."""
    if "login" in _prompts():
        return True
    max_age = request.args.get("max_age", "")
    return max_age.isdigit() and clock.now() - signed_in.auth_time > int(max_age)


def _login_url() -> str:
    """Send the person to sign in, prefilled with login_hint, then back here."""
    params: dict[str, t.Any] = {"next": request.full_path}
    if hint := request.args.get("login_hint"):
        params["login_hint"] = hint
    return url_for("auth.login", **params)


@bp.route("/consent", methods=["GET", "POST"])
def consent() -> t.Any:
    """Show which client asks for what, and answer with the person's decision."""
    signed_in = signin.current()
    if signed_in is None:
        return redirect(url_for("auth.login", next=request.full_path), 303)
    try:
        grant = server().get_consent_grant(end_user=signed_in.person)
    except OAuth2Error as error:
        return authorization_error(error)
    form = DecisionForm()
    decision = request.form.get("decision")
    if form.validate_on_submit() and decision in ("allow", "deny"):
        if decision == "allow":
            remember_consent(grant, signed_in.person.id)
        return finish(grant, signed_in, allowed=decision == "allow")
    scopes = scope_to_list(grant.request.scope) or []
    return render_template(
        "consent.html",
        form=form,
        client=grant.client,
        person=signed_in.person,
        scopes=[SCOPE_TEXT.get(scope, scope) for scope in scopes],
    )


@bp.post("/token")
@csrf_exempt
def token() -> Response:
    """Exchange a code (with its PKCE verifier) for tokens."""
    return t.cast(Response, server().create_token_response())


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf_exempt
def userinfo() -> Response:
    """Return the claims of the bearer token's person and scope."""
    return t.cast(Response, server().create_endpoint_response("userinfo"))


@bp.post("/revoke")
@csrf_exempt
def revoke() -> Response:
    """Revoke an access or refresh token (RFC 7009)."""
    return t.cast(Response, server().create_endpoint_response("revocation"))


@bp.post("/introspect")
@csrf_exempt
def introspect() -> Response:
    """Describe a token to its client (RFC 7662)."""
    return t.cast(Response, server().create_endpoint_response("introspection"))


def finish(grant: CodeGrant, signed_in: signin.SignedIn, *, allowed: bool) -> Response:
    """Redirect back to the client with a code, or with access_denied; 303 after a POST."""
    grant.auth_time = signed_in.auth_time
    grant.sid = signed_in.sid
    response = server().create_authorization_response(
        grant=grant, grant_user=signed_in.person if allowed else None
    )
    if allowed:
        signin.remember_client(signed_in, grant.client.get_client_id())
    if request.method == "POST" and response.status_code == 302:
        response.status_code = 303
    return spoil_iss(t.cast(Response, response))


def spoil_iss(response: Response) -> Response:
    """Drop or falsify the RFC 9207 iss of this redirect when such a fault is armed."""
    mode = provider().faults.take(AUTHORIZATION_FAULTS)
    if mode is None or not response.location:
        return response
    parts = urlsplit(response.location)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    if mode == "wrong_iss_param":
        query.append(("iss", WRONG_ISSUER))
    response.location = urlunsplit(parts._replace(query=urlencode(query)))
    return response


def authorization_error(error: OAuth2Error) -> t.Any:
    """Redirect an error to a verified redirect URI with iss (RFC 9207), else show a page."""
    if not error.redirect_uri:
        return render_template("error.html", error=error), 400
    response = server().handle_error_response(None, error)
    # authlib's IssuerParameter hook misses this path (esia-oidc.md finding 6).
    response.location = add_params_to_uri(response.location, {"iss": provider().issuer})
    if request.method == "POST":
        response.status_code = 303
    return spoil_iss(response)


def _scope_key(grant: CodeGrant) -> str:
    return " ".join(sorted(set(scope_to_list(grant.request.scope) or [])))


def consent_given(grant: CodeGrant, person_id: int) -> bool:
    """Tell whether the person already allowed this client this exact scope set."""
    statement = sa.select(Consent.id).where(
        Consent.person_id == person_id,
        Consent.client_id == grant.client.get_client_id(),
        Consent.scope == _scope_key(grant),
    )
    found = db().scalars(statement).first()
    return found is not None


def remember_consent(grant: CodeGrant, person_id: int) -> None:
    """Store the person's consent for this client and scope set."""
    if not consent_given(grant, person_id):
        db().add(
            Consent(
                person_id=person_id,
                client_id=grant.client.get_client_id(),
                scope=_scope_key(grant),
            )
        )
        db().commit()
