"""Serve development-only pages: the fault switch, the code outbox and the service centre."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from idp_mock import codes
from idp_mock import levels
from idp_mock.database import db
from idp_mock.extensions import csrf_exempt
from idp_mock.faults import MODES
from idp_mock.forms import DecisionForm
from idp_mock.models import Person
from idp_mock.runtime import provider
from idp_mock.runtime import rules

bp = Blueprint("devtools", __name__, url_prefix="/__dev")


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
@csrf_exempt
def faults() -> t.Any:
    """Arm (POST {"next_token": mode}), show (GET) or clear (DELETE) the development fault."""
    switch = provider().faults
    if not switch.enabled:
        abort(404)
    if request.method == "POST":
        mode = (request.get_json(silent=True) or {}).get("next_token")
        try:
            switch.arm(str(mode))
        except ValueError:
            return jsonify(error="unknown_mode", modes=sorted(MODES)), 400
    elif request.method == "DELETE":
        switch.clear()
    return jsonify(next_token=switch.armed, modes=sorted(MODES))


def _dev_pages_only() -> None:
    if not rules().dev_pages:
        abort(404)


@bp.get("/outbox")
def outbox() -> t.Any:
    """List the SMS and e-mails the provider 'sent', newest first (HTML, or JSON on request)."""
    _dev_pages_only()
    messages = codes.outbox(db())
    if request.args.get("format") == "json" or request.accept_mimetypes.best == "application/json":
        return jsonify(
            messages=[
                {
                    "channel": m.channel,
                    "to": m.recipient,
                    "text": m.text,
                    "code": m.code,
                    "sent_at": m.sent_at,
                }
                for m in messages
            ]
        )
    return render_template("outbox.html", messages=messages)


@bp.route("/service-centre", methods=["GET", "POST"])
def service_centre() -> t.Any:
    """Stand in for a service centre: confirm the identity of a standard account."""
    _dev_pages_only()
    form = DecisionForm()
    error = None
    if form.validate_on_submit():
        person = db().get(Person, int(request.form.get("person_id", "0") or 0))
        try:
            if person is None:
                raise levels.LevelError({"form": "Учётная запись не найдена"})
            levels.confirm_identity(db(), person)
        except levels.LevelError as err:
            error = err.errors["form"]
        else:
            return redirect(url_for(".service_centre"), 303)
    people = db().scalars(sa.select(Person).order_by(Person.oid)).all()
    return render_template("service_centre.html", form=form, people=people, error=error)
