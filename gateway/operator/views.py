"""The regional operators' console: instances and their health, and access applications.

Every view goes through ``services.roles`` for the region it touches; to anyone else the
console does not exist (404), and operators never see a child's diary here.
"""

from __future__ import annotations

import datetime as dt

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
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from connectors.base import ChecksRoster
from connectors.base import Credentials
from connectors.base import IssuesCredentials
from connectors.base import sections_of
from connectors.errors import ConnectorError
from gateway.extensions import db
from gateway.models import AccessApplication
from gateway.models import ConnectorInstance
from gateway.models import RoleKind
from gateway.operator.forms import REASON_LABELS
from gateway.operator.forms import ActionForm
from gateway.operator.forms import ApproveForm
from gateway.operator.forms import CheckForm
from gateway.operator.forms import InstanceForm
from gateway.operator.forms import RefuseForm
from gateway.operator.forms import RoleForm
from gateway.services import applications
from gateway.services import health
from gateway.services import roles
from gateway.services.instances import InstanceError
from gateway.services.instances import UnknownConnector
from gateway.services.instances import register_instance
from gateway.services.linking import NoStudents
from gateway.wiring import services

bp = Blueprint("operator", __name__, url_prefix="/operator")


@bp.app_context_processor
def staff_links() -> dict[str, object]:
    """Tell the layout whether to offer the console."""
    if not current_user.is_authenticated:
        return {"is_operator": False}
    return {"is_operator": bool(roles.operator_regions(db.session, current_user))}


def _now() -> dt.datetime:
    return services().now()


def _my_regions() -> set[str]:
    regions = roles.operator_regions(db.session, current_user)
    if not regions:
        abort(404)
    return regions


def _instance(key: str) -> ConnectorInstance:
    instance = db.session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == key))
    try:
        if instance is None:
            raise roles.RegionForbidden(key)
        roles.require_region(db.session, current_user, instance.region_code)
    except roles.RegionForbidden:
        abort(404)
    return instance


def _application(application_id: int) -> AccessApplication:
    application = db.session.get(AccessApplication, application_id)
    if application is None:
        abort(404)
    _instance(application.instance.key)
    return application


def _health(instance: ConnectorInstance) -> health.Health:
    try:
        offered = sections_of(services().pool.for_instance(instance))
    except (UnknownConnector, ValueError):
        offered = frozenset()
    return health.summary(db.session, instance, offered, now=_now())


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The operator's regions: their instances' health and the applications to decide."""
    regions = _my_regions()
    instances = db.session.scalars(
        select(ConnectorInstance).where(ConnectorInstance.region_code.in_(regions))
    )
    healths = health.worst_first([_health(i) for i in instances])
    waiting = applications.queue(db.session, regions)
    return render_template(
        "operator/index.html", healths=healths, waiting=waiting, regions=sorted(regions)
    )


@bp.route("/instances/new", methods=["GET", "POST"])
@login_required
def new_instance() -> ResponseReturnValue:
    """Register a connector instance in one of the operator's regions."""
    form = InstanceForm()
    form.region_code.choices = sorted(_my_regions())
    form.connector.choices = [SelectChoice(k, v) for k, v in services().pool.installed().items()]
    if form.validate_on_submit():
        try:
            instance = register_instance(
                db.session,
                services().pool,
                key=form.key.data,
                region_code=form.region_code.data,
                region_name=form.region_name.data.strip(),
                connector=form.connector.data,
                base_url=form.base_url.data.strip(),
                settings=form.parsed_settings(),
            )
        except InstanceError as err:
            db.session.rollback()
            flash(str(err), "error")
        else:
            db.session.commit()
            flash(_("Подключение зарегистрировано."), "success")
            return redirect(url_for("operator.instance", key=instance.key), 303)
    return render_template("operator/new_instance.html", form=form)


@bp.get("/instances/<key>")
@login_required
def instance(key: str) -> ResponseReturnValue:
    """The health page of one instance."""
    found = _instance(key)
    try:
        connector = services().pool.for_instance(found)
    except (UnknownConnector, ValueError):
        connector = None
    return render_template(
        "operator/instance.html",
        health=_health(found),
        issues=isinstance(connector, IssuesCredentials),
        roster=isinstance(connector, ChecksRoster),
        form=CheckForm(),
        action=ActionForm(),
    )


@bp.post("/instances/<key>/test")
@login_required
def test_instance(key: str) -> ResponseReturnValue:
    """ "Test connection": sign in with test credentials and count the students."""
    found = _instance(key)
    form = CheckForm()
    if not form.validate_on_submit():
        flash(_("Введите тестовый логин и пароль."), "error")
        return redirect(url_for("operator.instance", key=key), 303)
    connector = services().pool.for_instance(found)
    credentials = Credentials(
        login=form.login.data, password=form.password.data, school=form.school.data or None
    )
    try:
        students = connector.students(connector.login(credentials))
    except ConnectorError as err:
        flash(_("Проверка не прошла: %(error)s", error=type(err).__name__), "error")
    else:
        flash(_("Связь есть: вход выполнен, учеников — %(n)d.", n=len(students)), "success")
    return redirect(url_for("operator.instance", key=key), 303)


def _set_enabled(key: str, enabled: bool) -> ResponseReturnValue:
    found = _instance(key)
    if not ActionForm().validate_on_submit():
        abort(400)
    found.enabled = enabled
    db.session.commit()
    flash(_("Подключение включено.") if enabled else _("Подключение выключено."), "success")
    return redirect(url_for("operator.instance", key=key), 303)


@bp.post("/instances/<key>/enable")
@login_required
def enable(key: str) -> ResponseReturnValue:
    """Offer the instance to parents again."""
    return _set_enabled(key, True)


@bp.post("/instances/<key>/disable")
@login_required
def disable(key: str) -> ResponseReturnValue:
    """Stop offering the instance to parents; they are warned instead."""
    return _set_enabled(key, False)


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
        hint=applications.roster_hint(connector, found),
        issues=isinstance(connector, IssuesCredentials),
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
    entered = None
    if form.login.data and form.password.data:
        entered = Credentials(form.login.data.strip(), form.password.data, found.school)
    try:
        child = applications.approve(
            db.session,
            found,
            current_user,
            connector=services().pool.for_instance(found.instance),
            vault=services().vault,
            now=_now(),
            entered=entered,
        )
    except (applications.ApplicationError, ConnectorError, NoStudents) as err:
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
            roles.grant(
                db.session,
                form.person.data,
                RoleKind.OPERATOR,
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
