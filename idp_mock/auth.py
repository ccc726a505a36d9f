"""Serve the provider's own pages: sign-in, RP-initiated logout and a small home page."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_wtf.csrf import CSRFError

from idp_mock import clock
from idp_mock import codes
from idp_mock import signin
from idp_mock.accounts import LoginOutcome
from idp_mock.accounts import check_login
from idp_mock.clients import RegisteredClient
from idp_mock.database import db
from idp_mock.forms import CodeForm
from idp_mock.forms import DecisionForm
from idp_mock.forms import LoginForm
from idp_mock.i18n import gettext as _
from idp_mock.models import Person
from idp_mock.provider import server
from idp_mock.runtime import rules

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "Неверный логин или пароль"
LOCKED = (
    "Учётная запись временно заблокирована из-за многочисленных неудачных попыток входа. "
    "Попробуйте снова через {minutes} мин."
)


def safe_next(target: str | None) -> str:
    """Return a local path to continue to; anything off-site falls back to the home page."""
    if not target:
        return url_for("auth.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("auth.home")
    return target


@bp.get("/")
def home() -> str:
    """Show who is signed in at the provider."""
    return render_template("home.html", signed_in=signin.current())


@bp.route("/login", methods=["GET", "POST"])
def login() -> t.Any:
    """Sign a person in by phone, e-mail or SNILS and password, then continue."""
    form = LoginForm()
    if request.method == "GET" and request.args.get("login_hint"):
        form.login.data = request.args["login_hint"]
    error = None
    if form.validate_on_submit():
        outcome = check_login(
            db(),
            form.login.data or "",
            form.password.data or "",
            now=clock.now(),
            policy=rules().lockout,
        )
        if outcome.person is not None and outcome.person.mfa_enabled:
            return start_second_factor(outcome.person)
        if outcome.person is not None:
            signin.sign_in(outcome.person)
            return redirect(safe_next(request.args.get("next")), 303)
        error = login_error(outcome)
    elif request.method == "POST":
        error = _(LOGIN_FAILED)
    return render_template("login.html", form=form, error=error)


def login_error(outcome: LoginOutcome) -> str:
    """Word a refusal as ESIA does: remaining attempts, then the temporary lock."""
    if outcome.locked_until is not None:
        minutes = max(1, -(-(outcome.locked_until - clock.now()) // 60))
        return _(LOCKED, minutes=minutes)
    if outcome.attempts_left is not None:
        return f"{_(LOGIN_FAILED)}. {_('Осталось попыток')}: {outcome.attempts_left}"
    return _(LOGIN_FAILED)


def start_second_factor(person: Person) -> t.Any:
    """Send a sign-in code and ask for it before the session starts."""
    session["mfa"] = {"person_id": person.id, "next": safe_next(request.args.get("next"))}
    _send_signin_code(person)
    return redirect(url_for(".second_factor"), 303)


def _send_signin_code(person: Person) -> None:
    channel, recipient = (codes.SMS, person.phone) if person.phone else (codes.EMAIL, person.email)
    codes.send_code(
        db(),
        purpose=f"signin:{person.id}",
        channel=channel,
        recipient=recipient or "",
        now=clock.now(),
        policy=rules().codes,
    )


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> t.Any:
    """Check the SMS code of an account with the second factor on, then sign in."""
    pending = session.get("mfa")
    person = db().get(Person, pending["person_id"]) if pending else None
    if person is None:
        return redirect(url_for(".login"), 303 if request.method == "POST" else 302)
    form = CodeForm()
    error = None
    if form.validate_on_submit() and form.resend.data:
        _send_signin_code(person)
        return redirect(url_for(".second_factor"), 303)
    if form.validate_on_submit():
        try:
            codes.verify_code(
                db(),
                purpose=f"signin:{person.id}",
                channel=_channel(person),
                entered=form.code.data or "",
                now=clock.now(),
            )
        except codes.CodeError as err:
            error = codes.code_message(err)
        else:
            signin.sign_in(person)
            return redirect(pending["next"], 303)
    masked = _mask(person.phone or person.email or "")
    return render_template("login_code.html", form=form, error=error, masked=masked)


def _channel(person: Person) -> str:
    return codes.SMS if person.phone else codes.EMAIL


def _mask(recipient: str) -> str:
    return recipient[:2] + "*" * max(0, len(recipient) - 6) + recipient[-4:]


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
