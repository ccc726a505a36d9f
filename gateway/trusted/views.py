"""Invite a trusted person, accept or decline, revoke, and read the audit log."""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required

from connectors.schema import Section
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.runtime import services
from gateway.services import access
from gateway.services import audit
from gateway.services import trust
from gateway.trusted.forms import ActionForm
from gateway.trusted.forms import InviteForm

if t.TYPE_CHECKING:
    from gateway.models import Grant

bp = Blueprint("trusted", __name__, url_prefix="/trusted")
REFUSALS = {
    "name": _l("ФИО в вашей учётной записи не совпадает с ФИО в приглашении."),
    "contact": _l(
        "Телефон и почта в вашей учётной записи не совпадают с указанными в приглашении."
    ),
    "state": _l("Приглашение уже использовано, отклонено, отозвано или истекло."),
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
            grant, _token = trust.invite(
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
            flash(_sent(grant), "success")
            return redirect(url_for("trusted.index"), 303)
    return render_template(
        "trusted/invite.html", form=form, children=children, sections=trust.SHAREABLE
    )


def _chosen(child_id: int) -> set[Section]:
    names = set(request.form.getlist(f"scope-{child_id}"))
    return {s for s in trust.SHAREABLE if s.value in names}


def _sent(grant: Grant) -> str:
    """Say exactly where the link went: by SMS, to the mailbox, or both."""
    phone, email = grant.invitee_phone, grant.invitee_email
    if phone and email:
        return _(
            "Приглашение отправлено по СМС на %(phone)s и на почту %(email)s. "
            "Ссылка действует 7 дней.",
            phone=phone,
            email=email,
        )
    if phone:
        return _(
            "Приглашение отправлено по СМС на %(phone)s. Ссылка действует 7 дней.", phone=phone
        )
    return _("Приглашение отправлено на почту %(email)s. Ссылка действует 7 дней.", email=email)


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
    grant = trust.pending_invitation(db.session, token, now=_now())
    form = ActionForm()
    if grant is None:
        return render_template("trusted/gone.html"), 404
    if not current_user.is_authenticated:  # first sign in (or register) as the invitee
        config = current_app.config
        register = config["OIDC_REGISTRATION_URL"].format(issuer=config["OIDC_ISSUER"])
        return render_template(
            "trusted/sign_in_first.html", invitation=trust.preview(grant), register=register
        )
    if form.validate_on_submit():
        try:
            _decide(grant, request.form.get("decision"))
        except trust.TrustError as err:
            db.session.commit()  # the refusal is audited and the parent told
            flash(str(REFUSALS.get(str(err), REFUSALS["state"])), "error")
            return redirect(url_for("trusted.index"), 303)
        db.session.commit()
        return _after_decision(grant)
    return render_template(
        "trusted/accept.html", grant=grant, invitation=trust.preview(grant), form=form
    )


def _decide(grant: Grant, decision: str | None) -> None:
    if decision == "accept":
        delay = dt.timedelta(seconds=current_app.config["TRUST_ACCESS_DELAY_SECONDS"])
        trust.accept(db.session, grant, current_user, now=_now(), delay=delay)
    else:
        trust.decline(db.session, grant, current_user, now=_now())


def _after_decision(grant: Grant) -> ResponseReturnValue:
    """Open the shared diary at once, or say when it opens (or that it was declined)."""
    state = trust.status_of(grant, _now())
    if state is trust.Status.ACTIVE:
        first = min(grant.scopes, key=lambda scope: scope.link.position)
        flash(_("Приглашение принято. Доступ открыт."), "success")
        return redirect(url_for("diary.child", child_id=first.link_id), 303)
    if state is trust.Status.ACCEPTED and grant.active_from is not None:
        when = format_datetime(grant.active_from, "d MMMM HH:mm")
        flash(_("Приглашение принято. Доступ откроется %(time)s.", time=when), "success")
    else:
        flash(_("Приглашение отклонено."), "success")
    return redirect(url_for("trusted.index"), 303)


def _own_grant(grant_id: int) -> Grant:
    grant = trust.own_grant(db.session, current_user, grant_id)
    if grant is None:
        abort(404)
    return grant


@bp.route("/<int:grant_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(grant_id: int) -> ResponseReturnValue:
    """Ask whether to close a grant, then close it at once."""
    grant = _own_grant(grant_id)
    form = ActionForm()
    if request.method == "GET":
        return render_template("trusted/confirm.html", grant=grant, action="revoke", form=form)
    if not form.validate_on_submit():
        abort(400)
    trust.revoke(db.session, grant, now=_now())
    db.session.commit()
    flash(_("Доступ закрыт."), "success")
    return redirect(url_for("trusted.index"), 303)


@bp.route("/person/<int:person_id>/remove", methods=["GET", "POST"])
@login_required
def remove(person_id: int) -> ResponseReturnValue:
    """Ask whether to remove a trusted person, then revoke and forget all they were given."""
    form = ActionForm()
    if request.method == "GET":
        grant = trust.held_by(db.session, current_user, person_id)
        if grant is None:
            abort(404)
        return render_template("trusted/confirm.html", grant=grant, action="remove", form=form)
    if not form.validate_on_submit():
        abort(400)
    if not trust.remove_person(db.session, current_user, person_id, now=_now()):
        abort(404)
    db.session.commit()
    flash(_("Доверенное лицо удалено."), "success")
    return redirect(url_for("trusted.index"), 303)


@bp.app_errorhandler(access.AccessClosed)
def access_closed(err: access.AccessClosed) -> ResponseReturnValue:
    """Tell a trusted person that their access was revoked, has ended, or opens later."""
    status = 403 if err.status is trust.Status.ACCEPTED else 410
    return render_template("trusted/closed.html", grant=err.grant, state=err.status), status


@bp.app_template_global()
def inviters_of_newcomer() -> list[str]:
    """Name who invited the signed-in person, when they have no children of their own.

    The consent page then speaks of access a parent opened, not of linking children.
    """
    if not current_user.is_authenticated or access.children_of(db.session, current_user):
        return []
    return trust.inviters(db.session, current_user, now=_now())


@bp.app_template_global()
def ended_access() -> list[tuple[Grant, trust.Status]]:
    """Name the closed grants of a signed-in person who has no children of their own.

    The family page then says whose access ended and why instead of offering to link one.
    """
    if not current_user.is_authenticated or access.children_of(db.session, current_user):
        return []
    return trust.ended_grants(db.session, current_user, now=_now())


@bp.get("/audit")
@login_required
def audit_log() -> ResponseReturnValue:
    """The parent's log: invitations, acceptances, refusals, revocations and views."""
    return render_template("trusted/audit.html", events=audit.log_of(db.session, current_user.id))
