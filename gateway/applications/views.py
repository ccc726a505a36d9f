"""The parent's side of access applications: apply, follow the status, correct and resubmit."""

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
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from gateway.applications.forms import ApplicationForm
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.guards import require_account_level
from gateway.labels import REASON_LABELS
from gateway.limits import keep_form
from gateway.runtime import services
from gateway.services import applications
from gateway.services import documents
from gateway.services import health
from gateway.services import trust
from gateway.services.children import next_free_name
from gateway.services.instances import enabled_instances

if t.TYPE_CHECKING:
    from gateway.models import AccessApplication

bp = Blueprint("applications", __name__, url_prefix="/children/applications")
bp.before_request(require_account_level)


def _limit() -> str:
    return str(current_app.config["LIMIT_APPLICATIONS"])


def _per_person() -> str:
    return f"user:{current_user.get_id()}"


def _now() -> dt.datetime:
    return services().now()


def _form(**kwargs: object) -> ApplicationForm:
    """Build the form for the signed-in parent, the child's name prefilled with a free ChildN."""
    if not kwargs.get("display_name"):
        kwargs["display_name"] = next_free_name(db.session, current_user)
    form = ApplicationForm(**kwargs)
    form.instance.choices = [
        SelectChoice(i.key, i.region_name) for i in enabled_instances(db.session)
    ]
    form.applicant = current_user
    form.today = trust.parents_day(_now())
    return form


def _form_again() -> str:
    """Render the submitted form again, its document numbers left out (rate limit)."""
    application_id = (request.view_args or {}).get("application_id")
    found = _found(application_id) if application_id is not None else None
    form = _form(**(applications.prefill(found) if found else {}))
    form.certificate.data = form.passport.data = ""
    return render_template("applications/form.html", form=form, warning=None, application=found)


def _found(application_id: int) -> AccessApplication:
    try:
        found = applications.own(db.session, current_user, application_id)
    except LookupError:
        abort(404)
    if found.status != "refused":
        abort(404)
    return found


def _input(form: ApplicationForm) -> applications.ApplicationInput:
    instance = next(i for i in enabled_instances(db.session) if i.key == form.instance.data)
    return applications.ApplicationInput(
        instance_id=instance.id,
        child_full_name=form.child_full_name.data,
        child_birth_date=form.child_birth_date.data,
        certificate=form.certificate.data or None,
        school=form.school.data,
        class_name=form.class_name.data,
        applicant_full_name=form.applicant_full_name.data,
        applicant_birth_date=form.applicant_birth_date.data,
        passport=form.passport.data or None,
        relation=form.relation.data,
        display_name=form.display_name.data,
    )


def _warning(key: str | None) -> str | None:
    instance = next((i for i in enabled_instances(db.session) if i.key == key), None)
    if instance is None:
        return None
    return health.warning_for(db.session, instance, now=_now(), budget=services().pool.budget)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The parent's applications: status, due date, reasons, and fresh decisions."""
    notices = applications.take_notices(db.session, current_user)
    db.session.commit()
    return render_template(
        "applications/index.html",
        applications=applications.of_parent(db.session, current_user),
        notices=notices,
        reasons=REASON_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit, key_func=_per_person, methods=["POST"], on_breach=keep_form(_form_again))
def new() -> ResponseReturnValue:
    """Apply for a school-issued login."""
    form = _form(instance=request.args.get("region"))
    if form.validate_on_submit():
        try:
            applications.submit(
                db.session, current_user, _input(form), vault=services().vault, now=_now()
            )
        except (applications.ApplicationError, documents.InvalidDocument) as err:
            db.session.rollback()
            flash(_problem(err), "error")
        else:
            db.session.commit()
            flash(_("Заявка отправлена оператору региона."), "success")
            return redirect(url_for("applications.index"), 303)
    warning = _warning(form.instance.data)
    return render_template("applications/form.html", form=form, warning=warning, application=None)


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit, key_func=_per_person, methods=["POST"], on_breach=keep_form(_form_again))
def edit(application_id: int) -> ResponseReturnValue:
    """Correct a refused application and send it again; documents may be kept."""
    found = _found(application_id)
    form = _form(**applications.prefill(found))
    form.documents_required = found.documents is None
    if form.validate_on_submit():
        try:
            applications.resubmit(
                db.session, found, _input(form), vault=services().vault, now=_now()
            )
        except (applications.ApplicationError, documents.InvalidDocument) as err:
            db.session.rollback()
            flash(_problem(err), "error")
        else:
            db.session.commit()
            flash(_("Исправленная заявка отправлена."), "success")
            return redirect(url_for("applications.index"), 303)
    return render_template("applications/form.html", form=form, warning=None, application=found)


def _problem(err: Exception) -> str:
    if isinstance(err, applications.DifferentApplicant):
        return _(
            "Заявка отклонена: подана другим лицом. ФИО и дата рождения заявителя не совпадают "
            "с подтверждёнными данными вашей учётной записи на Госуслугах."
        )
    if isinstance(err, documents.InvalidDocument):
        return _("Проверьте серию и номер документа.")
    return _("Проверьте данные заявки.")
