"""Link a child: choose the region, prove access to its school system, store it."""

from __future__ import annotations

import dataclasses
import logging
import secrets

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from sqlalchemy import select

from connectors.base import AuthorizesInBrowser
from connectors.base import BackendSession
from connectors.base import Connector
from connectors.base import Credentials
from connectors.errors import ConnectorError
from connectors.errors import SecondFactorRequired
from gateway.children.forms import CodeForm
from gateway.children.forms import LinkForm
from gateway.children.forms import ManageForm
from gateway.children.forms import RenameForm
from gateway.children.messages import explain
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.services import access
from gateway.services import children as children_service
from gateway.services import health
from gateway.services import users
from gateway.services.instances import enabled_instances
from gateway.services.linking import Linker
from gateway.services.linking import NoStudents
from gateway.services.pending import PendingLink
from gateway.services.pending import PendingLinks
from gateway.wiring import services

bp = Blueprint("children", __name__, url_prefix="/children")
log = logging.getLogger(__name__)


@bp.before_request
def require_account_level() -> ResponseReturnValue | None:
    """Linking needs an identity-provider account of the configured level or higher."""
    if not current_user.is_authenticated:
        return None
    minimum = current_app.config["LINK_MIN_LEVEL"]
    if users.has_level(current_user, minimum):
        return None
    page = render_template(
        "children/level.html",
        level=current_user.account_level,
        minimum=minimum,
        provider=current_app.config["OIDC_ISSUER"],
    )
    return page, 403


def _credentials_limit() -> str:
    return str(current_app.config["LIMIT_CREDENTIALS"])


def _per_person() -> str:
    return f"user:{current_user.get_id()}"


def _instance(key: str) -> ConnectorInstance:
    instance = db.session.scalar(select(ConnectorInstance).where(ConnectorInstance.key == key))
    if instance is None:
        abort(404)
    if not instance.enabled:  # warn before the parent types anything
        abort(make_response(render_template("children/unavailable.html", instance=instance), 503))
    return instance


def _linker(instance: ConnectorInstance) -> Linker:
    svc = services()
    return Linker(
        session=db.session,
        user=current_user,
        instance=instance,
        connector=svc.pool.for_instance(instance),
        vault=svc.vault,
        now=svc.now(),
    )


def _pending() -> PendingLinks:
    return PendingLinks(services().cache, services().vault)


def _oauth_redirect_uri() -> str:
    return current_app.config["PUBLIC_URL"] + url_for("children.authorized")


def _offers_browser_sign_in(connector: object) -> bool:
    """Tell whether the operator registered the gateway as a partner of this backend."""
    return isinstance(connector, AuthorizesInBrowser) and bool(
        connector.authorization_url(redirect_uri=_oauth_redirect_uri(), state="-")
    )


def _finish(
    instance: ConnectorInstance, credentials: Credentials | None, granted: BackendSession
) -> ResponseReturnValue | None:
    """Store a granted access and go to the family page; None when it failed (flashed)."""
    try:
        children = _linker(instance).verified(credentials, granted)
    except (ConnectorError, NoStudents) as err:
        db.session.rollback()
        flash(explain(err, instance), "error")
        return None
    db.session.commit()
    names = ", ".join(f"{c.display_name} — {c.full_name}" for c in children)
    flash(_("Готово! Привязаны: %(names)s", names=names), "success")
    return redirect(url_for("diary.family"), 303)


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
    instance = _instance(key)
    connector = services().pool.for_instance(instance)
    if _offers_browser_sign_in(connector):
        return render_template("children/authorize.html", instance=instance, connector=connector)
    form = LinkForm()
    if form.validate_on_submit():
        if connector.requires_school and not form.school.data:
            form.school.errors = [_("Укажите школу.")]
        elif (done := _sign_in(instance, connector, _credentials_of(form))) is not None:
            return done
    warning = health.warning_for(db.session, instance, now=services().now())
    return render_template(
        "children/link.html", form=form, instance=instance, connector=connector, warning=warning
    )


def _credentials_of(form: LinkForm) -> Credentials:
    return Credentials(
        login=form.login.data.strip(),
        password=form.password.data,
        school=(form.school.data or "").strip() or None,
    )


def _sign_in(
    instance: ConnectorInstance, connector: Connector, credentials: Credentials
) -> ResponseReturnValue | None:
    """Sign in and link; go to the code step when asked; None (with a message) on failure."""
    try:
        granted = connector.login(credentials)
    except SecondFactorRequired as asked:
        session["pending_link"] = _pending().put(
            PendingLink(
                user_id=current_user.id,
                instance_key=instance.key,
                credentials=credentials,
                challenge=asked.challenge,
                destination=asked.destination,
            )
        )
        return redirect(url_for("children.code", key=instance.key), 303)
    except ConnectorError as err:
        log.info("linking at %s failed: %s", instance.key, type(err).__name__)
        flash(explain(err, instance), "error")
        return None
    return _finish(instance, credentials, granted)


@bp.route("/link/<key>/code", methods=["GET", "POST"])
@login_required
@limiter.limit(_credentials_limit, key_func=_per_person, methods=["POST"])
def code(key: str) -> ResponseReturnValue:
    """Ask for the one-time code the school system sent, and finish linking."""
    instance = _instance(key)
    token = session.get("pending_link", "")
    pending = _pending().get(token, user_id=current_user.id)
    if pending is None or pending.instance_key != key:
        flash(_("Время на ввод кода истекло. Введите логин и пароль ещё раз."), "error")
        return redirect(url_for("children.link", key=key))
    form = CodeForm()
    if form.validate_on_submit():
        connector = services().pool.for_instance(instance)
        try:
            granted = connector.confirm_second_factor(pending.challenge, form.code.data.strip())
        except SecondFactorRequired as again:
            _pending().put(dataclasses.replace(pending, challenge=again.challenge), token)
            form.code.errors = [_("Неверный код. Попробуйте ещё раз.")]
        except ConnectorError as err:
            _pending().drop(token)
            flash(explain(err, instance), "error")
            return redirect(url_for("children.link", key=key), 303)
        else:
            _pending().drop(token)
            if (done := _finish(instance, pending.credentials, granted)) is not None:
                return done
            return redirect(url_for("children.link", key=key), 303)
    return render_template("children/code.html", form=form, instance=instance, pending=pending)


@bp.get("/link/<key>/authorize")
@login_required
def authorize(key: str) -> ResponseReturnValue:
    """Send the parent to the school system's own sign-in page."""
    instance = _instance(key)
    connector = services().pool.for_instance(instance)
    if not isinstance(connector, AuthorizesInBrowser):
        abort(404)
    state = secrets.token_urlsafe(24)
    session["link_oauth"] = {"state": state, "key": key}
    url = connector.authorization_url(redirect_uri=_oauth_redirect_uri(), state=state)
    if url is None:
        abort(404)
    return redirect(url)


@bp.get("/oauth/callback")
@login_required
def authorized() -> ResponseReturnValue:
    """Finish linking after the school system's own sign-in page sent the parent back."""
    expected = session.pop("link_oauth", None) or {}
    if not expected or not secrets.compare_digest(
        request.args.get("state", ""), expected.get("state", "")
    ):
        flash(_("Ссылка устарела. Начните привязку заново."), "error")
        return redirect(url_for("children.choose_region"))
    instance = _instance(expected["key"])
    connector = services().pool.for_instance(instance)
    if "code" not in request.args or not isinstance(connector, AuthorizesInBrowser):
        flash(_("Вход в школьную систему не завершён. Ничего не сохранено."), "error")
        return redirect(url_for("children.link", key=instance.key))
    try:
        granted = connector.complete_authorization(
            code=request.args["code"], redirect_uri=_oauth_redirect_uri()
        )
    except ConnectorError as err:
        flash(explain(err, instance), "error")
        return redirect(url_for("children.link", key=instance.key))
    return _finish(instance, None, granted) or redirect(url_for("children.link", key=instance.key))


def _own_child(child_id: int) -> ChildLink:
    try:
        return access.require_own_child(db.session, current_user, child_id)
    except access.ChildNotFound:
        abort(404)


@bp.get("/")
@login_required
def manage() -> ResponseReturnValue:
    """List the children with rename, reorder and unlink controls."""
    children = access.children_of(db.session, current_user)
    return render_template("children/manage.html", children=children, form=ManageForm())


@bp.post("/<int:child_id>/rename")
@login_required
def rename(child_id: int) -> ResponseReturnValue:
    """Rename a child (Child1 → «Маша»)."""
    link = _own_child(child_id)
    form = RenameForm()
    try:
        if not form.validate_on_submit():
            raise children_service.InvalidName(form.name.data or "")
        children_service.rename(link, form.name.data)
    except children_service.InvalidName:
        flash(_("Имя должно быть от 1 до 40 символов."), "error")
    else:
        db.session.commit()
        flash(_("Сохранено."), "success")
    return redirect(url_for("children.manage"), 303)


@bp.post("/<int:child_id>/move/<direction>")
@login_required
def move(child_id: int, direction: str) -> ResponseReturnValue:
    """Move a child up or down on the family page."""
    link = _own_child(child_id)
    if direction not in ("up", "down") or not ManageForm().validate_on_submit():
        abort(400)
    children_service.move(db.session, link, -1 if direction == "up" else 1)
    db.session.commit()
    return redirect(url_for("children.manage"), 303)


@bp.route("/<int:child_id>/unlink", methods=["GET", "POST"])
@login_required
def unlink(child_id: int) -> ResponseReturnValue:
    """Stop following a child; the stored school login goes too if nobody else uses it."""
    link = _own_child(child_id)
    form = ManageForm()
    if not form.validate_on_submit():
        return render_template("children/unlink.html", child=link, form=form)
    name = link.label
    children_service.unlink(db.session, link)
    db.session.commit()
    flash(_("%(name)s больше не отслеживается.", name=name), "success")
    return redirect(url_for("children.manage"), 303)
