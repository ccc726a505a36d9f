"""Invite a trusted person, accept or decline, revoke, and read the audit log."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from connectors.schema import Section
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.models import Grant
from gateway.services import access
from gateway.services import audit
from gateway.services import outbox
from gateway.services import trust
from gateway.trusted.forms import ActionForm
from gateway.trusted.forms import InviteForm
from gateway.wiring import services

bp = Blueprint("trusted", __name__, url_prefix="/trusted")
SHAREABLE = [
    Section.SCHEDULE,
    Section.HOMEWORK,
    Section.GRADES,
    Section.ATTENDANCE,
    Section.EVENTS,
    Section.MESSAGES,
    Section.RATING,
]
REFUSALS = {
    "name": "ФИО в вашей учётной записи не совпадает с ФИО в приглашении.",
    "contact": "Телефон и почта в вашей учётной записи не совпадают с указанными в приглашении.",
    "state": "Приглашение уже использовано, отклонено, отозвано или истекло.",
}


def _now() -> dt.datetime:
    return services().now()


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The parent's grants with their states, and invitations addressed to this person."""
    given = trust.given_by(db.session, current_user)
    received = trust.addressed_to(db.session, current_user)
    return render_template(
        "trusted/index.html",
        given=given,
        received=received,
        status_of=trust.status_of,
        now=_now(),
        form=ActionForm(),
    )


@bp.route("/invite", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"])
def invite() -> ResponseReturnValue:
    """Invite someone to chosen sections of chosen children."""
    children = access.children_of(db.session, current_user)
    form = InviteForm()
    if form.validate_on_submit():
        scopes = {c.id: _chosen(c.id) for c in children}
        invitation = trust.Invitation(
            name=form.name.data,
            phone=form.phone.data,
            email=form.email.data,
            scopes=scopes,
            ends_on=form.ends_on.data,
        )
        accept_url = current_app.config["PUBLIC_URL"] + "/trusted/accept/{token}"
        try:
            trust.invite(
                db.session,
                current_user,
                invitation,
                now=_now(),
                accept_url=accept_url,
                vault=services().vault,
            )
        except trust.TrustError as err:
            db.session.rollback()
            flash(_invite_problem(str(err)), "error")
        else:
            db.session.commit()
            flash(_("Приглашение отправлено по СМС и почте. Ссылка действует 7 дней."), "success")
            return redirect(url_for("trusted.index"), 303)
    return render_template("trusted/invite.html", form=form, children=children, sections=SHAREABLE)


def _chosen(child_id: int) -> set[Section]:
    names = set(request.form.getlist(f"scope-{child_id}"))
    return {s for s in SHAREABLE if s.value in names}


def _invite_problem(code: str) -> str:
    return {
        "name": _("Укажите ФИО."),
        "contact": _("Укажите телефон (+7…) или электронную почту."),
        "scope": _("Отметьте хотя бы один раздел хотя бы одного ребёнка."),
        "ends_on": _("Дата окончания доступа уже прошла."),
    }.get(code, _("Проверьте данные приглашения."))


@bp.route("/accept/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def accept(token: str) -> ResponseReturnValue:
    """Show an invitation to the person it names; accept or decline it."""
    grant = trust.by_token(db.session, token)
    form = ActionForm()
    if grant is None:
        return render_template("trusted/gone.html"), 404
    if not current_user.is_authenticated:  # first sign in (or register) as the invitee
        config = current_app.config
        register = config["OIDC_REGISTRATION_URL"].format(issuer=config["OIDC_ISSUER"])
        return render_template("trusted/sign_in_first.html", grant=grant, register=register)
    if form.validate_on_submit():
        decision = request.form.get("decision")
        delay = dt.timedelta(seconds=current_app.config["TRUST_ACCESS_DELAY_SECONDS"])
        try:
            if decision == "accept":
                trust.accept(db.session, grant, current_user, now=_now(), delay=delay)
            else:
                trust.decline(db.session, grant, current_user, now=_now())
        except trust.TrustError as err:
            _tell_owner_of_refusal(grant, str(err))
            db.session.commit()
            flash(_(REFUSALS.get(str(err), REFUSALS["state"])), "error")
            return redirect(url_for("trusted.index"), 303)
        db.session.commit()
        return redirect(url_for("trusted.index"), 303)
    return render_template("trusted/accept.html", grant=grant, form=form, now=_now())


def _tell_owner_of_refusal(grant: Grant, reason: str) -> None:
    owner = grant.owner
    if reason in ("name", "contact") and owner.phone:
        outbox.queue(
            db.session,
            channel="sms",
            recipient=owner.phone,
            now=_now(),
            subject="Приглашение не принято",
            body=f"Приглашение для {grant.invitee_name} не принято: данные не совпали.",
        )


def _own_grant(grant_id: int) -> Grant:
    grant = db.session.get(Grant, grant_id)
    if grant is None or grant.owner_id != current_user.id:
        abort(404)
    return grant


@bp.post("/<int:grant_id>/revoke")
@login_required
def revoke(grant_id: int) -> ResponseReturnValue:
    """Close a grant at once."""
    grant = _own_grant(grant_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    trust.revoke(db.session, grant, now=_now())
    db.session.commit()
    flash(_("Доступ закрыт."), "success")
    return redirect(url_for("trusted.index"), 303)


@bp.post("/person/<int:person_id>/remove")
@login_required
def remove(person_id: int) -> ResponseReturnValue:
    """Revoke and forget everything given to one trusted person."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if not trust.remove_person(db.session, current_user, person_id, now=_now()):
        abort(404)
    db.session.commit()
    flash(_("Доверенное лицо удалено."), "success")
    return redirect(url_for("trusted.index"), 303)


@bp.get("/audit")
@login_required
def audit_log() -> ResponseReturnValue:
    """The parent's log: invitations, acceptances, refusals, revocations and views."""
    return render_template("trusted/audit.html", events=audit.log_of(db.session, current_user.id))
