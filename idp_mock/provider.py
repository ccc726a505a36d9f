"""Serve the OpenID endpoints: discovery, JWKS, authorize, consent, token, userinfo."""

from __future__ import annotations

import typing as t

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

from idp_mock import signin
from idp_mock.claims import CLAIMS_SUPPORTED
from idp_mock.claims import SCOPES_SUPPORTED
from idp_mock.clients import AUTH_METHODS
from idp_mock.database import db
from idp_mock.extensions import csrf
from idp_mock.forms import DecisionForm
from idp_mock.keys import ALGORITHM
from idp_mock.models import Consent
from idp_mock.oauth2 import EXTENSION
from idp_mock.oauth2 import CodeGrant
from idp_mock.oauth2 import Provider
from idp_mock.oauth2 import Server

bp = Blueprint("provider", __name__)

SCOPE_TEXT = {
    "openid": "Подтвердить, что это вы (идентификатор учётной записи и её уровень)",
    "profile": "Фамилия, имя, отчество и дата рождения",
    "email": "Адрес электронной почты",
    "phone": "Номер мобильного телефона",
}


def provider() -> Provider:
    """Return the provider settings of the current app."""
    return t.cast(Provider, current_app.extensions[EXTENSION])


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
        scopes_supported=list(SCOPES_SUPPORTED),
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=[ALGORITHM],
        token_endpoint_auth_methods_supported=list(AUTH_METHODS),
        code_challenge_methods_supported=["S256"],
        claims_supported=list(CLAIMS_SUPPORTED),
        claims_parameter_supported=False,
        request_parameter_supported=False,
        request_uri_parameter_supported=False,
        authorization_response_iss_parameter_supported=True,
        ui_locales_supported=["ru-RU"],
    )


@bp.get("/jwks")
def jwks() -> Response:
    """Publish the public signing keys, each with its kid."""
    return jsonify(provider().keys.public_jwks())


@bp.get("/authorize")
def authorize() -> t.Any:
    """Validate the request, then sign in, then consent, then redirect back with a code."""
    signed_in = signin.current()
    try:
        grant = server().get_consent_grant(end_user=signed_in.person if signed_in else None)
    except OAuth2Error as error:
        return authorization_error(error)
    if signed_in is None:
        return redirect(url_for("auth.login", next=request.full_path))
    if consent_given(grant, signed_in.person.id):
        return finish(grant, signed_in, allowed=True)
    if "none" in (request.args.get("prompt") or "").split():
        return authorization_error(ConsentRequiredError(redirect_uri=grant.redirect_uri))
    return redirect(url_for(".consent") + "?" + request.query_string.decode())


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
@csrf.exempt
def token() -> Response:
    """Exchange a code (with its PKCE verifier) for tokens."""
    return t.cast(Response, server().create_token_response())


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo() -> Response:
    """Return the claims of the bearer token's person and scope."""
    return t.cast(Response, server().create_endpoint_response("userinfo"))


def finish(grant: CodeGrant, signed_in: signin.SignedIn, *, allowed: bool) -> Response:
    """Redirect back to the client with a code, or with access_denied; 303 after a POST."""
    grant.auth_time = signed_in.auth_time
    response = server().create_authorization_response(
        grant=grant, grant_user=signed_in.person if allowed else None
    )
    if request.method == "POST" and response.status_code == 302:
        response.status_code = 303
    return t.cast(Response, response)


def authorization_error(error: OAuth2Error) -> t.Any:
    """Redirect an error to a verified redirect URI with iss (RFC 9207), else show a page."""
    if not error.redirect_uri:
        return render_template("error.html", error=error), 400
    response = server().handle_error_response(None, error)
    # authlib's IssuerParameter hook misses this path (esia-oidc.md finding 6).
    response.location = add_params_to_uri(response.location, {"iss": provider().issuer})
    if request.method == "POST":
        response.status_code = 303
    return response


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
