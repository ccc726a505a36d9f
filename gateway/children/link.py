"""Link a child: prove access to the region's school system, store it, name the children."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Sequence

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
from connectors.errors import InvalidCredentials
from connectors.errors import SchoolNotFound
from connectors.errors import SecondFactorRequired
from connectors.errors import SessionExpired
from gateway.children.forms import CodeForm
from gateway.children.forms import LinkForm
from gateway.children.messages import explain
from gateway.children.views import bp
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.limits import keep_form
from gateway.models import ConnectorInstance
from gateway.runtime import services
from gateway.services import health
from gateway.services.children import next_free_name
from gateway.services.linking import Linker
from gateway.services.linking import NoStudents
from gateway.services.pending import PendingLink
from gateway.services.pending import PendingLinks

log = logging.getLogger(__name__)


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
    instance: ConnectorInstance,
    credentials: Credentials | None,
    granted: BackendSession,
    names: Sequence[str] = (),
) -> ResponseReturnValue | None:
    """Store a granted access; name the children the parent has not named yet; else home.

    None when it failed (the reason is flashed).
    """
    try:
        linked = _linker(instance).verified(credentials, granted, names=names)
    except (ConnectorError, NoStudents) as err:
        db.session.rollback()
        flash(explain(err, instance), "error")
        return None
    db.session.commit()
    listed = ", ".join(c.label for c in linked.children)
    flash(_("Готово! Привязаны: %(names)s", names=listed), "success")
    if len(linked.new) > len(names):
        session["naming"] = [c.id for c in linked.new]
        return redirect(url_for("children.names"), 303)
    return redirect(url_for("diary.family"), 303)


def _link_form(connector: Connector) -> LinkForm:
    form = LinkForm(name=next_free_name(db.session, current_user))
    form.require_school = connector.requires_school
    return form


def _link_page(instance: ConnectorInstance, connector: Connector, form: LinkForm) -> str:
    if _offers_browser_sign_in(connector):
        return render_template("children/authorize.html", instance=instance, connector=connector)
    warning = health.warning_for(db.session, instance, now=services().now())
    return render_template(
        "children/link.html", form=form, instance=instance, connector=connector, warning=warning
    )


def _link_again() -> str:
    """Render the submitted link form again (the password never comes back)."""
    instance = _instance((request.view_args or {})["key"])
    connector = services().pool.for_instance(instance)
    return _link_page(instance, connector, _link_form(connector))


@bp.route("/link/<key>", methods=["GET", "POST"])
@login_required
@limiter.limit(
    _credentials_limit, key_func=_per_person, methods=["POST"], on_breach=keep_form(_link_again)
)
def link(key: str) -> ResponseReturnValue:
    """Verify a school-issued login with the backend and link every student it shows."""
    instance = _instance(key)
    connector = services().pool.for_instance(instance)
    form = _link_form(connector)
    if (
        not _offers_browser_sign_in(connector)
        and form.validate_on_submit()
        and (done := _sign_in(instance, connector, form)) is not None
    ):
        return done
    return _link_page(instance, connector, form)


def _credentials_of(form: LinkForm) -> Credentials:
    return Credentials(
        login=form.login.data.strip(),
        password=form.password.data,
        school=form.school_name() or None,
    )


def _sign_in(
    instance: ConnectorInstance, connector: Connector, form: LinkForm
) -> ResponseReturnValue | None:
    """Sign in and link; go to the code step when asked; None (with a message) on failure.

    A login linked here before brings its stored session, whose trusted device spares the
    parent a second SMS code.
    """
    credentials = _credentials_of(form)
    try:
        previous = _linker(instance).previous_session(credentials)
        granted = connector.login(credentials, previous=previous)
    except SecondFactorRequired as asked:
        session["pending_link"] = _pending().put(
            PendingLink(
                user_id=current_user.id,
                instance_key=instance.key,
                credentials=credentials,
                challenge=asked.challenge,
                destination=asked.destination,
                display_name=form.name.data,
            )
        )
        return redirect(url_for("children.code", key=instance.key), 303)
    except SchoolNotFound as err:
        form.school.data = credentials.school
        form.school.errors = [explain(err, instance)]
        form.schools = err.candidates
        return None
    except ConnectorError as err:
        log.info("linking at %s failed: %s", instance.key, type(err).__name__)
        flash(explain(err, instance), "error")
        return None
    return _finish(instance, credentials, granted, names=[form.name.data])


def _pending_of(key: str) -> PendingLink | None:
    pending = _pending().get(session.get("pending_link", ""), user_id=current_user.id)
    return pending if pending is not None and pending.instance_key == key else None


def _code_again() -> str:
    """Render the code step again with what was typed (the link form when it expired)."""
    key = (request.view_args or {})["key"]
    pending = _pending_of(key)
    if pending is None:
        return _link_again()
    form = CodeForm(name=pending.display_name)
    return render_template(
        "children/code.html", form=form, instance=_instance(key), pending=pending
    )


@bp.route("/link/<key>/code", methods=["GET", "POST"])
@login_required
@limiter.limit(
    _credentials_limit, key_func=_per_person, methods=["POST"], on_breach=keep_form(_code_again)
)
def code(key: str) -> ResponseReturnValue:
    """Ask for the one-time code the school system sent, and finish linking."""
    instance = _instance(key)
    pending = _pending_of(key)
    if pending is None:
        flash(_("Время на ввод кода истекло. Введите логин и пароль ещё раз."), "error")
        return redirect(url_for("children.link", key=key))
    form = CodeForm(name=pending.display_name or next_free_name(db.session, current_user))
    if form.validate_on_submit() and (done := _confirm(instance, pending, form)) is not None:
        return done
    return render_template("children/code.html", form=form, instance=instance, pending=pending)


def _confirm(
    instance: ConnectorInstance, pending: PendingLink, form: CodeForm
) -> ResponseReturnValue | None:
    """Send the code; None (with the message next to the field) when another try is left."""
    token = session["pending_link"]
    connector = services().pool.for_instance(instance)
    try:
        granted = connector.confirm_second_factor(pending.challenge, form.code.data.strip())
    except SecondFactorRequired as again:
        kept = dataclasses.replace(pending, challenge=again.challenge, display_name=form.name.data)
        _pending().put(kept, token)
        form.code.errors = [_("Неверный код. Попробуйте ещё раз.")]
        return None
    except ConnectorError as err:
        _pending().drop(token)
        flash(_code_failure(err, instance), "error")
        return redirect(url_for("children.link", key=instance.key), 303)
    _pending().drop(token)
    done = _finish(instance, pending.credentials, granted, names=[form.name.data])
    return done or redirect(url_for("children.link", key=instance.key), 303)


def _code_failure(err: ConnectorError, instance: ConnectorInstance) -> str:
    """Say why the code step ended: the login and password were accepted before it."""
    if isinstance(err, InvalidCredentials):
        return _(
            "Код введён неверно слишком много раз. Начните привязку заново: введите логин "
            "и пароль, и школьная система пришлёт новый код."
        )
    if isinstance(err, SessionExpired):
        return _("Время на ввод кода истекло. Введите логин и пароль ещё раз.")
    return explain(err, instance)


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
