"""Register a new account as on Gosuslugi: name, contacts, password, then confirmation codes."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import Blueprint
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from idp_mock import clock
from idp_mock import codes
from idp_mock import registration
from idp_mock import signin
from idp_mock import wording
from idp_mock.account_models import Registration
from idp_mock.auth import safe_next
from idp_mock.database import db
from idp_mock.forms import ContactCodesForm
from idp_mock.forms import RegisterForm
from idp_mock.runtime import rules

bp = Blueprint("register", __name__, url_prefix="/register")

FIELDS = ("family_name", "given_name", "middle_name", "phone", "email")


@bp.route("/", methods=["GET", "POST"])
def start() -> t.Any:
    """Take the application, send the codes and go on to the confirmation page."""
    form = RegisterForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        values = {name: getattr(form, name).data or "" for name in FIELDS}
        applicant = registration.Applicant(
            **values,
            password=form.password.data or "",
            password_again=form.password_again.data or "",
        )
        try:
            created = registration.start(db(), applicant, now=clock.now(), policy=rules().codes)
        except registration.RegistrationError as err:
            errors = err.errors
        except codes.CodeLimit as err:
            field = "phone" if err.channel == codes.SMS else "email"
            errors = {field: wording.code_message(err, start_over=wording.REGISTER_AGAIN)}
        else:
            session["register_next"] = safe_next(request.args.get("next"))
            return redirect(url_for(".confirm", handle=created.handle), 303)
    return render_template("register.html", form=form, errors=errors)


def _registration(handle: str) -> Registration:
    found = db().scalars(sa.select(Registration).where(Registration.handle == handle)).first()
    if found is None or found.person_id is not None:
        abort(404)
    return found


@bp.route("/<handle>", methods=["GET", "POST"])
def confirm(handle: str) -> t.Any:
    """Check the SMS and e-mail codes; create the simplified account once both are right."""
    pending = _registration(handle)
    form = ContactCodesForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        resend = request.form.get("resend")
        if resend and resend in registration.pending_channels(db(), pending):
            try:
                registration.send(
                    db(), pending, resend, now=clock.now(), policy=rules().codes, resend=True
                )
            except codes.CodeLimit as err:
                errors = {resend: wording.code_message(err, start_over=wording.REGISTER_AGAIN)}
            else:
                return redirect(url_for(".confirm", handle=handle), 303)
        else:
            errors = _check_codes(pending, form)
        if not registration.pending_channels(db(), pending):
            person = registration.complete(db(), pending)
            signin.sign_in(person)
            return redirect(session.pop("register_next", None) or url_for("profile.show"), 303)
    return render_template(
        "register_confirm.html",
        form=form,
        errors=errors,
        channels=dict(registration.channels(pending)),
        pending=registration.pending_channels(db(), pending),
    )


def _check_codes(pending: Registration, form: ContactCodesForm) -> dict[str, str]:
    errors = {}
    entered = {codes.SMS: form.sms_code.data, codes.EMAIL: form.email_code.data}
    for channel in registration.pending_channels(db(), pending):
        try:
            codes.verify_code(
                db(),
                purpose=registration.purpose(pending),
                channel=channel,
                entered=entered[channel] or "",
                now=clock.now(),
            )
        except codes.CodeError as err:
            errors[channel] = wording.code_message(err, start_over=wording.REGISTER_AGAIN)
    return errors
