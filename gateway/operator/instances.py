"""Connector instances in the console: register, re-point, test, approve, enable, disable.

The rules live in ``services.lifecycle``; these views only say who acts and what came of it.
"""

from __future__ import annotations

import typing as t

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from gateway.extensions import db
from gateway.operator.forms import ActionForm
from gateway.operator.forms import ApproveInstanceForm
from gateway.operator.forms import CheckForm
from gateway.operator.forms import InstanceForm
from gateway.operator.forms import RepointForm
from gateway.operator.views import _health
from gateway.operator.views import _instance
from gateway.operator.views import _my_regions
from gateway.operator.views import _now
from gateway.operator.views import bp
from gateway.runtime import services
from gateway.services import audit
from gateway.services import lifecycle
from gateway.services import roles
from gateway.services.instances import InstanceError
from gateway.services.instances import instance_by_key
from gateway.services.instances import offers

if t.TYPE_CHECKING:
    from gateway.models import ConnectorInstance


def _me() -> lifecycle.Actor:
    return lifecycle.Actor(user=current_user._get_current_object())


def _policy() -> lifecycle.Policy:
    return lifecycle.Policy(allow_private=current_app.config["ALLOW_PRIVATE_BACKENDS"])


def _refused(err: InstanceError) -> str:
    if isinstance(err, lifecycle.AddressRefused):
        return _(
            "Этот адрес нельзя зарегистрировать: имя не найдено или ведёт во внутреннюю сеть. "
            "Укажите публичный адрес школьной системы."
        )
    return str(err)


@bp.route("/instances/new", methods=["GET", "POST"])
@login_required
def new_instance() -> ResponseReturnValue:
    """Register a connector instance in one of the operator's regions (not yet offered)."""
    form = InstanceForm()
    form.region_code.choices = sorted(_my_regions())
    form.connector.choices = [SelectChoice(k, v) for k, v in services().pool.installed().items()]
    if form.validate_on_submit() and (instance := _registered(form)) is not None:
        db.session.commit()
        flash(
            _(
                "Подключение зарегистрировано. Проверьте связь: родителям его покажут, "
                "когда его одобрит администратор."
            ),
            "success",
        )
        return redirect(url_for("operator.instance", key=instance.key), 303)
    return render_template("operator/new_instance.html", form=form)


def _registered(form: InstanceForm) -> ConnectorInstance | None:
    """Register what the form describes; None (the reason flashed) when it is refused."""
    try:
        return lifecycle.register(
            db.session,
            pool=services().pool,
            key=form.key.data,
            region_code=form.region_code.data,
            region_name=form.region_name.data.strip(),
            connector=form.connector.data,
            base_url=form.base_url.data.strip(),
            settings=form.parsed_settings(),
            by=_me(),
            now=_now(),
            policy=_policy(),
        )
    except InstanceError as err:
        db.session.rollback()
        flash(_refused(err), "error")
        return None


@bp.get("/instances/<key>")
@login_required
def instance(key: str) -> ResponseReturnValue:
    """The health page of one instance, its state and its audit log."""
    found = _instance(key)
    offered = offers(found, pool=services().pool)
    return render_template(
        "operator/instance.html",
        health=_health(found),
        state=lifecycle.state(found),
        events=audit.instance_log(db.session, found),
        issues=offered.issues_credentials,
        roster=offered.checks_roster,
        form=CheckForm(),
        repoint=RepointForm(base_url=found.base_url),
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
    try:
        result = lifecycle.check_connection(
            db.session,
            found,
            pool=services().pool,
            login=form.login.data,
            password=form.password.data,
            school=form.school.data,
            by=_me(),
            now=_now(),
        )
    except lifecycle.ConnectionFailed as failed:
        flash(_check_failed(failed.code), "error")
    else:
        flash(_("Связь есть: вход выполнен, учеников — %(n)d.", n=result.students), "success")
    db.session.commit()  # the outcome is in the audit log either way
    return redirect(url_for("operator.instance", key=key), 303)


def _check_failed(code: str) -> str:
    if code == "credentials":
        return _("Система ответила, но не приняла тестовый логин и пароль.")
    if code == "code_needed":
        return _("Система просит одноразовый код: проверьте командой flask connectors check.")
    # One message for a closed port, a timeout, a refused address, an unknown name and a
    # reply that is not the system's: the console must not map the network behind it.
    return _("Связаться с системой не удалось. Проверьте адрес и попробуйте позже.")


@bp.post("/instances/<key>/address")
@login_required
def repoint(key: str) -> ResponseReturnValue:
    """Give the instance a new address: parents lose it until it is tested and approved."""
    found = _instance(key)
    form = RepointForm()
    if not form.validate_on_submit():
        flash(_address_problem(form), "error")
        return redirect(url_for("operator.instance", key=key), 303)
    try:
        lifecycle.repoint(
            db.session,
            found,
            pool=services().pool,
            base_url=form.base_url.data.strip(),
            by=_me(),
            now=_now(),
            policy=_policy(),
        )
    except InstanceError as err:
        db.session.rollback()
        flash(_refused(err), "error")
    else:
        db.session.commit()
        flash(_("Адрес изменён. Проверьте связь: администратор одобрит новый адрес."), "success")
    return redirect(url_for("operator.instance", key=key), 303)


def _address_problem(form: RepointForm) -> str:
    problem = next(iter(form.base_url.errors), None)
    return str(problem or _("Укажите адрес системы: http:// или https://."))


def _set_enabled(key: str, enabled: bool) -> ResponseReturnValue:
    found = _instance(key)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if enabled:
            lifecycle.enable(db.session, found, by=_me(), now=_now())
        else:
            lifecycle.set_enabled(db.session, found, False, by=_me(), now=_now())
    except lifecycle.LifecycleError:
        flash(_("Подключение ещё не одобрено администратором."), "error")
    else:
        db.session.commit()
        flash(_("Подключение включено.") if enabled else _("Подключение выключено."), "success")
    return redirect(url_for("operator.instance", key=key), 303)


@bp.post("/instances/<key>/enable")
@login_required
def enable(key: str) -> ResponseReturnValue:
    """Offer an approved instance to parents again."""
    return _set_enabled(key, True)


@bp.post("/instances/<key>/disable")
@login_required
def disable(key: str) -> ResponseReturnValue:
    """Stop offering the instance to parents; they are warned instead."""
    return _set_enabled(key, False)


def _require_admin() -> None:
    if not roles.is_admin(db.session, current_user):
        abort(404)


@bp.get("/approvals")
@login_required
def awaiting() -> ResponseReturnValue:
    """The administrator's list: new and re-pointed instances waiting for approval."""
    _require_admin()
    return render_template(
        "operator/awaiting.html",
        instances=lifecycle.awaiting(db.session),
        state=lifecycle.state,
        action=ActionForm(),
    )


@bp.post("/instances/<key>/approve")
@login_required
def approve_instance(key: str) -> ResponseReturnValue:
    """Approve an instance at the address the administrator saw (another person's change)."""
    _require_admin()
    try:
        found = instance_by_key(db.session, key)
    except InstanceError:
        abort(404)
    form = ApproveInstanceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        lifecycle.approve(
            db.session, found, seen_url=form.base_url.data or "", by=_me(), now=_now()
        )
    except lifecycle.LifecycleError as err:
        db.session.rollback()
        flash(_approval_refused(err.code, found), "error")
    else:
        db.session.commit()
        flash(_("Подключение одобрено и показано родителям."), "success")
    return redirect(url_for("operator.awaiting"), 303)


def _approval_refused(code: str, found: ConnectorInstance) -> str:
    if code == "changed":
        return _(
            "Адрес подключения изменился, пока была открыта страница: теперь это %(url)s. "
            "Посмотрите новый адрес и одобрите снова, когда по нему пройдёт проверка связи.",
            url=found.base_url,
        )
    if code == "untested":
        return _("Сначала оператор должен успешно проверить связь по этому адресу.")
    return _("Одобрить может только другой администратор: это изменение внесли вы.")
