"""The regional operators' console: instances and their health, and access applications.

Every view goes through ``services.roles`` for the region it touches; to anyone else the
console does not exist (404), and operators never see a child's diary here.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from gateway.extensions import db
from gateway.labels import REASON_LABELS
from gateway.operator.forms import ActionForm
from gateway.operator.forms import ApproveForm
from gateway.operator.forms import RefuseForm
from gateway.operator.forms import RoleForm
from gateway.runtime import services
from gateway.services import applications
from gateway.services import health
from gateway.services import roles
from gateway.services.instances import InstanceError
from gateway.services.instances import in_regions
from gateway.services.instances import instance_by_key
from gateway.services.instances import issues_credentials
from gateway.services.instances import offers
from gateway.services.linking import LINK_FAILURES
from gateway.services.linking import NoStudents
from gateway.services.linking import school_login

if t.TYPE_CHECKING:
    from gateway.models import AccessApplication
    from gateway.models import ConnectorInstance

bp = Blueprint("operator", __name__, url_prefix="/operator")


@bp.app_context_processor
def staff_links() -> dict[str, object]:
    """Tell the layout whether to offer the console."""
    if not current_user.is_authenticated:
        return {"is_operator": False}
    return {"is_operator": roles.is_operator(db.session, current_user)}


def _now() -> dt.datetime:
    return services().now()


def _my_regions() -> set[str]:
    regions = roles.operator_regions(db.session, current_user)
    if not regions:
        abort(404)
    return regions


def _instance(key: str) -> ConnectorInstance:
    try:
        instance = instance_by_key(db.session, key)
        roles.require_region(db.session, current_user, instance.region_code)
    except (InstanceError, roles.RegionForbidden):
        abort(404)
    return instance


def _application(application_id: int) -> AccessApplication:
    application = applications.by_id(db.session, application_id)
    if application is None:
        abort(404)
    _instance(application.instance.key)
    return application


def _health(instance: ConnectorInstance) -> health.Health:
    pool = services().pool
    offered = offers(instance, pool=pool).sections
    return health.summary(db.session, instance, offered, now=_now(), budget=pool.budget)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The operator's regions: their instances' health and the applications to decide."""
    regions = _my_regions()
    instances = in_regions(db.session, regions)
    healths = health.worst_first([_health(i) for i in instances])
    waiting = applications.queue(db.session, regions)
    return render_template(
        "operator/index.html", healths=healths, waiting=waiting, regions=sorted(regions)
    )


@bp.get("/applications")
@login_required
def queue() -> ResponseReturnValue:
    """The region's open applications by due date, overdue ones marked."""
    waiting = applications.queue(db.session, _my_regions())
    return render_template(
        "operator/queue.html", waiting=waiting, today=_now().date(), overdue=applications.is_overdue
    )


@bp.get("/applications/<int:application_id>")
@login_required
def application(application_id: int) -> ResponseReturnValue:
    """One application: masked documents (the view is logged) and the roster hint."""
    found = _application(application_id)
    applications.open_for_review(db.session, found, current_user, now=_now())
    db.session.commit()
    return _review_page(found, revealed={})


def _review_page(found: AccessApplication, revealed: dict[str, str]) -> ResponseReturnValue:
    connector = services().pool.for_instance(found.instance)
    return render_template(
        "operator/application.html",
        application=found,
        revealed=revealed,
        hint=applications.roster_hint(found, connector=connector),
        issues=issues_credentials(connector),
        overdue=applications.is_overdue(found, _now().date()),
        approve_form=ApproveForm(),
        refuse_form=RefuseForm(),
        action=ActionForm(),
        reasons=REASON_LABELS,
    )


@bp.post("/applications/<int:application_id>/reveal")
@login_required
def reveal(application_id: int) -> ResponseReturnValue:
    """Show the full document numbers once; the parent's audit log records it."""
    found = _application(application_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    shown = applications.reveal_documents(
        db.session, found, current_user, vault=services().vault, now=_now()
    )
    db.session.commit()
    return _review_page(found, revealed=shown)


@bp.post("/applications/<int:application_id>/approve")
@login_required
def approve(application_id: int) -> ResponseReturnValue:
    """Approve: the login comes from the system (or the form); the child is linked."""
    found = _application(application_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        child = applications.approve(
            db.session,
            found,
            current_user,
            connector=services().pool.for_instance(found.instance),
            vault=services().vault,
            now=_now(),
            entered=school_login(form.login.data.strip(), form.password.data, found.school)
            if form.login.data and form.password.data
            else None,  # typed in, for a system that cannot issue logins
        )
    except (applications.ApplicationError, *LINK_FAILURES) as err:
        db.session.rollback()
        flash(_approve_problem(err), "error")
        return redirect(url_for("operator.application", application_id=application_id), 303)
    db.session.commit()
    flash(_("Заявка одобрена, ребёнок привязан: %(name)s.", name=child.full_name), "success")
    return redirect(url_for("operator.queue"), 303)


def _approve_problem(err: Exception) -> str:
    if isinstance(err, applications.NeedsCredentials):
        return _("Эта система не создаёт логины: введите логин и пароль, выданные школой.")
    if isinstance(err, applications.ApplicationError):
        return _("Заявка уже рассмотрена.")
    if isinstance(err, NoStudents):
        return _("Логин принят, но за ним нет учеников.")
    return _("Школьная система не выполнила запрос (%(error)s).", error=type(err).__name__)


@bp.post("/applications/<int:application_id>/refuse")
@login_required
def refuse(application_id: int) -> ResponseReturnValue:
    """Refuse with a reason from the list; the parent is told and may correct it."""
    found = _application(application_id)
    form = RefuseForm()
    try:
        if not form.validate_on_submit():
            raise applications.ApplicationError("reason")
        applications.refuse(
            db.session,
            found,
            current_user,
            reason=form.reason.data,
            text=form.text.data,
            now=_now(),
        )
    except applications.ApplicationError:
        db.session.rollback()
        flash(_("Выберите причину; для «Другое» напишите пояснение."), "error")
        return redirect(url_for("operator.application", application_id=application_id), 303)
    db.session.commit()
    flash(_("Заявка отклонена, родитель уведомлён."), "success")
    return redirect(url_for("operator.queue"), 303)


@bp.route("/roles", methods=["GET", "POST"])
@login_required
def staff() -> ResponseReturnValue:
    """The administrator makes people regional operators."""
    if not roles.is_admin(db.session, current_user):
        abort(404)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            roles.appoint_operator(
                db.session,
                form.person.data,
                region_code=form.region_code.data,
                by=current_user.subject,
                now=_now(),
            )
        except roles.RoleError:
            flash(_("Укажите телефон или почту человека."), "error")
        else:
            db.session.commit()
            flash(_("Оператор назначен."), "success")
            return redirect(url_for("operator.staff"), 303)
    return render_template("operator/roles.html", form=form, roles=roles.all_roles(db.session))
