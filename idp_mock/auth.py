"""Serve the provider's own pages: sign-in, RP-initiated logout and a small home page."""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_wtf.csrf import CSRFError

from idp_mock import clock
from idp_mock import codes
from idp_mock import signin
from idp_mock import throttle
from idp_mock import wording
from idp_mock.accounts import LoginOutcome
from idp_mock.accounts import check_login
from idp_mock.accounts import count_failure
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
    if form.validate_on_submit():
        return _check_password(form)
    error = _(wording.LOGIN_FAILED) if request.method == "POST" else None
    return render_template("login.html", form=form, error=error)


def _address() -> str:
    return request.remote_addr or "unknown"


def _check_password(form: LoginForm) -> t.Any:
    now = clock.now()
    if (blocked := throttle.blocked_until(db(), _address(), now=now)) is not None:
        return _too_many(blocked, now, "login.html", form=form)
    outcome = check_login(
        db(), form.login.data or "", form.password.data or "", now=now, policy=rules().lockout
    )
    if outcome.person is not None and outcome.person.mfa_enabled:
        return start_second_factor(form, outcome.person)
    if outcome.person is not None:
        signin.sign_in(outcome.person)
        return redirect(safe_next(request.args.get("next")), 303)
    throttle.count_failure(db(), _address(), now=now, policy=rules().addresses)
    return render_template("login.html", form=form, error=wording.login_error(outcome, now=now))


def _too_many(until: int, now: int, template: str, **context: t.Any) -> t.Any:
    """Refuse a throttled address: the same page, status and wording for every account."""
    error = wording.address_blocked(until, now=now)
    response = make_response(render_template(template, error=error, **context), 429)
    response.headers["Retry-After"] = str(until - now)
    return response


def start_second_factor(form: LoginForm, person: Person) -> t.Any:
    """Send a sign-in code and ask for it before the session starts."""
    try:
        _send_signin_code(person)
    except codes.CodeLimit as err:
        error = wording.code_message(err, start_over=wording.SIGN_IN_AGAIN)
        return render_template("login.html", form=form, error=error)
    session["mfa"] = {"person_id": person.id, "next": safe_next(request.args.get("next"))}
    return redirect(url_for(".second_factor"), 303)


def _send_signin_code(person: Person, *, resend: bool = False) -> None:
    codes.send_code(
        db(),
        purpose=f"signin:{person.id}",
        channel=_channel(person),
        recipient=(person.phone or person.email) or "",
        now=clock.now(),
        policy=rules().codes,
        resend=resend,
    )


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> t.Any:
    """Check the SMS code of an account with the second factor on, then sign in."""
    pending = session.get("mfa")
    person = db().get(Person, pending["person_id"]) if pending else None
    if person is None:
        return redirect(url_for(".login"), 303 if request.method == "POST" else 302)
    form = CodeForm()
    masked = _mask(person.phone or person.email or "")
    error = None
    if form.validate_on_submit():
        now = clock.now()
        if (blocked := throttle.blocked_until(db(), _address(), now=now)) is not None:
            return _too_many(blocked, now, "login_code.html", form=form, masked=masked)
        if person.locked_until > now:
            locked = LoginOutcome(None, locked_until=person.locked_until)
            return _back_to_login(wording.login_error(locked, now=now))
        if not form.resend.data:
            return _check_code(form, person, masked=masked, now=now)
        try:
            _send_signin_code(person, resend=True)
        except codes.CodeLimit as err:
            error = wording.code_message(err, start_over=wording.SIGN_IN_AGAIN)
        else:
            return redirect(url_for(".second_factor"), 303)
    return render_template("login_code.html", form=form, error=error, masked=masked)


def _check_code(form: CodeForm, person: Person, *, masked: str, now: int) -> t.Any:
    try:
        codes.verify_code(
            db(),
            purpose=f"signin:{person.id}",
            channel=_channel(person),
            entered=form.code.data or "",
            now=now,
        )
    except codes.CodeError as err:
        refusal = err
        if err.guessed:
            # A wrong code costs what a wrong password costs: the account's and the address's.
            throttle.count_failure(db(), _address(), now=now, policy=rules().addresses)
            outcome = count_failure(db(), person, now=now, policy=rules().lockout)
            if outcome.attempts_left is None:
                return _back_to_login(wording.login_error(outcome, now=now))
            left = min(err.attempts_left, outcome.attempts_left)
            refusal = codes.CodeError(err.reason, left, guessed=True)
        message = wording.code_message(refusal, start_over=wording.SIGN_IN_AGAIN)
        if refusal.reason == "exhausted":
            return _back_to_login(message)
        return render_template("login_code.html", form=form, error=message, masked=masked)
    person.failed_logins = 0
    db().commit()
    next_url = session["mfa"]["next"]
    signin.sign_in(person)
    return redirect(next_url, 303)


def _back_to_login(error: str) -> t.Any:
    """End the pending second factor and show the sign-in form with the reason."""
    pending = session.pop("mfa", None) or {}
    action = url_for(".login", next=pending.get("next"))
    return render_template("login.html", form=LoginForm(formdata=None), error=error, action=action)


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
def csrf_failed(error: CSRFError) -> t.Any:
    """Explain in Russian that the form expired or was not sent from this site.

    A sign-in form opened in a second tab goes stale when the first tab signs in (a new
    session, a new CSRF token); the person is signed in by then, so that tab's request
    carries on where it was going instead. Nothing is checked or changed on its behalf.
    """
    if request.endpoint == "auth.login" and signin.current() is not None:
        return redirect(safe_next(request.args.get("next")), 303)
    return render_template("csrf.html"), 400


def _registered(client: RegisteredClient | None, uri: str) -> bool:
    return client is not None and uri in client.post_logout_redirect_uris


class _UnregisteredLogoutUri:
    """Describe the refusal of an unregistered post_logout_redirect_uri like an OAuth error."""

    error = "invalid_request"
    description = "post_logout_redirect_uri is not registered for this client"
