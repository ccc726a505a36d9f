"""Serve the provider's own pages: sign-in, RP-initiated logout and a small home page."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_wtf.csrf import CSRFError

from idp_mock import signin
from idp_mock.accounts import authenticate
from idp_mock.clients import RegisteredClient
from idp_mock.database import db
from idp_mock.forms import DecisionForm
from idp_mock.forms import LoginForm
from idp_mock.provider import server

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Неверный логин или пароль"


def safe_next(target: str | None) -> str:
    """Return a local path to continue to; anything off-site falls back to the home page."""
    if not target:
        return url_for(".home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for(".home")
    return target


@bp.get("/")
def home() -> str:
    """Show who is signed in at the provider."""
    return render_template("home.html", signed_in=signin.current())


@bp.route("/login", methods=["GET", "POST"])
def login() -> t.Any:
    """Sign a person in by phone, e-mail or SNILS and password, then continue."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        person = authenticate(db(), form.login.data or "", form.password.data or "")
        if person is not None:
            signin.sign_in(person)
            return redirect(safe_next(request.args.get("next")), 303)
        error = LOGIN_FAILED
    elif request.method == "POST":
        error = LOGIN_FAILED
    return render_template("login.html", form=form, error=error)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> t.Any:
    """End the provider session at the client's request (RP-Initiated Logout 1.0)."""
    try:
        ending = server().validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return render_template("error.html", error=error), 400
    wanted = request.values.get("post_logout_redirect_uri")
    if wanted and not _registered(ending.client, wanted):
        # Never redirect to an unregistered URI, and do not log out on a forged request.
        return render_template("error.html", error=_UnregisteredLogoutUri()), 400
    form = DecisionForm()
    if request.method == "GET" and ending.needs_confirmation:
        return render_template("logout.html", form=form, client=ending.client)
    if request.method == "POST" and not form.validate_on_submit():
        return render_template("logout.html", form=form, client=ending.client), 400
    response = server().create_endpoint_response("end_session", ending)
    if response is None:
        response = redirect(url_for(".logged_out"))
    if request.method == "POST":
        response.status_code = 303
    return response


@bp.get("/logged-out")
def logged_out() -> str:
    """Tell the person they are signed out."""
    return render_template("logged_out.html")


@bp.app_errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> tuple[str, int]:
    """Explain in Russian that the form expired or was not sent from this site."""
    return render_template("csrf.html"), 400


def _registered(client: RegisteredClient | None, uri: str) -> bool:
    return client is not None and uri in client.post_logout_redirect_uris


class _UnregisteredLogoutUri:
    """Describe the refusal of an unregistered post_logout_redirect_uri like an OAuth error."""

    error = "invalid_request"
    description = "post_logout_redirect_uri is not registered for this client"
