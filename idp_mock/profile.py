"""Show a signed-in person's profile: level, the way up, and the sign-in second factor."""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from idp_mock import clock
from idp_mock import levels
from idp_mock import signin
from idp_mock.database import db
from idp_mock.forms import DecisionForm
from idp_mock.forms import DocumentsForm
from idp_mock.runtime import rules

bp = Blueprint("profile", __name__, url_prefix="/profile")

LEVEL_NAMES = {"simplified": "упрощённая", "standard": "стандартная", "confirmed": "подтверждённая"}
DOCUMENT_FIELDS = (
    "snils",
    "birthdate",
    "passport_series",
    "passport_number",
    "passport_issued_on",
    "passport_issuer_code",
)


@bp.before_app_request
def settle_level_checks() -> None:
    """Finish the automatic checks whose time has come, so every page and token sees the level."""
    settings = rules()
    levels.settle(
        db(),
        now=clock.now(),
        bad_snils=settings.known_bad_snils,
        bad_passports=settings.known_bad_passports,
    )


def _signed_in_or_login() -> t.Any:
    signed_in = signin.current()
    if signed_in is None:
        return None, redirect(url_for("auth.login", next=url_for(".show")), 303)
    return signed_in, None


@bp.route("/", methods=["GET", "POST"])
def show() -> t.Any:
    """Show the profile; a POST sends SNILS and passport data for the automatic check."""
    signed_in, away = _signed_in_or_login()
    if away is not None:
        return away
    form = DocumentsForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        documents = levels.Documents(
            **{name: getattr(form, name).data or "" for name in DOCUMENT_FIELDS}
        )
        try:
            levels.submit(
                db(),
                signed_in.person,
                documents,
                now=clock.now(),
                delay=rules().level_check_seconds,
            )
        except levels.LevelError as err:
            errors = err.errors
        else:
            return redirect(url_for(".show"), 303)
    return render_template(
        "profile.html",
        person=signed_in.person,
        level_name=LEVEL_NAMES[signed_in.person.level],
        check=levels.latest_request(db(), signed_in.person),
        form=form,
        errors=errors,
        toggle=DecisionForm(),
    )


@bp.post("/second-factor")
def second_factor() -> t.Any:
    """Turn the sign-in SMS code on or off."""
    signed_in, away = _signed_in_or_login()
    if away is not None:
        return away
    if DecisionForm().validate_on_submit():
        signed_in.person.mfa_enabled = request.form.get("decision") == "on"
        db().commit()
    return redirect(url_for(".show"), 303)
