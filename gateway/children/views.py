"""Link a child: choose the region, enter the school-issued login, verify it, store it."""

from __future__ import annotations

import logging

from flask import Blueprint
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
from sqlalchemy import select

from connectors.base import Credentials
from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from gateway.children.forms import LinkForm
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.models import ConnectorInstance
from gateway.services import linking
from gateway.services.instances import enabled_instances
from gateway.wiring import services

bp = Blueprint("children", __name__, url_prefix="/children")
log = logging.getLogger(__name__)


def _credentials_limit() -> str:
    return str(current_app.config["LIMIT_CREDENTIALS"])


def _per_person() -> str:
    return f"user:{current_user.get_id()}"


def _explain(err: Exception, instance: ConnectorInstance) -> str:
    """Say in plain words why linking failed; nothing was stored in any case."""
    if isinstance(err, linking.NoStudents):
        return _("Школьная система приняла логин, но за ним нет учеников.")
    if isinstance(err, InvalidCredentials):
        return _("Школьная система не приняла логин или пароль. Проверьте их и попробуйте снова.")
    if isinstance(err, AccountLocked):
        return _("Школьная система временно заблокировала вход. Попробуйте позже.")
    if isinstance(err, AccessDenied):
        return _("Эта учётная запись не даёт доступа к дневнику ученика.")
    return _(
        "Система «%(region)s» сейчас не отвечает. Ничего не сохранено, попробуйте позже.",
        region=instance.region_name,
    )


@bp.get("/link")
@login_required
def choose_region() -> ResponseReturnValue:
    """List the regions whose systems the gateway can read."""
    return render_template("children/regions.html", instances=enabled_instances(db.session))


@bp.route("/link/<key>", methods=["GET", "POST"])
@login_required
@limiter.limit(_credentials_limit, key_func=_per_person, methods=["POST"])
def link(key: str) -> ResponseReturnValue:
    """Verify a school-issued login with the backend and link every student it shows."""
    instance = db.session.scalar(
        select(ConnectorInstance).where(ConnectorInstance.key == key, ConnectorInstance.enabled)
    )
    if instance is None:
        abort(404)
    connector = services().pool.for_instance(instance)
    form = LinkForm()
    if form.validate_on_submit():
        if connector.requires_school and not form.school.data:
            form.school.errors = [_("Укажите школу.")]
        else:
            credentials = Credentials(
                login=form.login.data.strip(),
                password=form.password.data,
                school=(form.school.data or "").strip() or None,
            )
            try:
                children = linking.link_children(
                    db.session,
                    user=current_user,
                    instance=instance,
                    credentials=credentials,
                    connector=connector,
                    vault=services().vault,
                    now=services().now(),
                )
            except (ConnectorError, linking.NoStudents) as err:
                db.session.rollback()
                log.info("linking at %s failed: %s", instance.key, type(err).__name__)
                flash(_explain(err, instance), "error")
            else:
                db.session.commit()
                names = ", ".join(f"{c.display_name} — {c.full_name}" for c in children)
                flash(_("Готово! Привязаны: %(names)s", names=names), "success")
                return redirect(url_for("diary.family"), 303)
    return render_template("children/link.html", form=form, instance=instance, connector=connector)
