"""Link a child: prove access to the region's school system, store it, name the children.

The steps are :class:`gateway.services.link_flow.LinkingFlow`'s; these views turn its
results into pages, flashes and redirects.
"""

from __future__ import annotations

import secrets
import typing as t

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

from gateway.children.forms import CodeForm
from gateway.children.forms import LinkForm
from gateway.children.messages import SCHOOL_REFUSALS
from gateway.children.messages import explain
from gateway.children.views import bp
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.limits import keep_form
from gateway.runtime import services
from gateway.services import health
from gateway.services.children import next_free_name
from gateway.services.instances import InstanceError
from gateway.services.instances import instance_by_key
from gateway.services.link_flow import Linked
from gateway.services.link_flow import LinkingFlow
from gateway.services.link_flow import NeedsCode
from gateway.services.link_flow import Refused
from gateway.services.pending import PendingLink

if t.TYPE_CHECKING:
    from gateway.models import ConnectorInstance


def _credentials_limit() -> str:
    return str(current_app.config["LIMIT_CREDENTIALS"])


def _per_person() -> str:
    return f"user:{current_user.get_id()}"


def _instance(key: str) -> ConnectorInstance:
    try:
        instance = instance_by_key(db.session, key)
    except InstanceError:
        abort(404)
    if not instance.enabled:  # warn before the parent types anything
        abort(make_response(render_template("children/unavailable.html", instance=instance), 503))
    return instance


def _flow(instance: ConnectorInstance) -> LinkingFlow:
    svc = services()
    return LinkingFlow(
        db.session,
        user=current_user,
        instance=instance,
        pool=svc.pool,
        vault=svc.vault,
        cache=svc.cache,
        now=svc.now(),
    )


def _oauth_redirect_uri() -> str:
    return current_app.config["PUBLIC_URL"] + url_for("children.authorized")


def _shown(instance: ConnectorInstance, outcome: Linked | Refused) -> ResponseReturnValue | None:
    """Commit and greet the linked children (naming the new ones first); flash a refusal.

    None when it was refused.
    """
    if isinstance(outcome, Refused):
        flash(explain(outcome.reason, instance), "error")
        return None
    db.session.commit()
    listed = ", ".join(c.label for c in outcome.children)
    flash(_("Готово! Привязаны: %(names)s", names=listed), "success")
    if outcome.to_name:
        session["naming"] = outcome.to_name
        return redirect(url_for("children.names"), 303)
    return redirect(url_for("diary.family"), 303)


def _link_form(flow: LinkingFlow) -> LinkForm:
    form = LinkForm(name=next_free_name(db.session, current_user))
    form.require_school = flow.system.requires_school
    return form


def _link_page(instance: ConnectorInstance, flow: LinkingFlow, form: LinkForm) -> str:
    system = flow.system
    if flow.offers_browser_sign_in(redirect_uri=_oauth_redirect_uri()):
        return render_template("children/authorize.html", instance=instance, connector=system)
    warning = health.warning_for(
        db.session, instance, now=services().now(), budget=services().pool.budget
    )
    return render_template(
        "children/link.html", form=form, instance=instance, connector=system, warning=warning
    )


def _link_again() -> str:
    """Render the submitted link form again (the password never comes back)."""
    instance = _instance((request.view_args or {})["key"])
    flow = _flow(instance)
    return _link_page(instance, flow, _link_form(flow))


@bp.route("/link/<key>", methods=["GET", "POST"])
@login_required
@limiter.limit(
    _credentials_limit, key_func=_per_person, methods=["POST"], on_breach=keep_form(_link_again)
)
def link(key: str) -> ResponseReturnValue:
    """Verify a school-issued login with the backend and link every student it shows."""
    instance = _instance(key)
    flow = _flow(instance)
    form = _link_form(flow)
    if (
        not flow.offers_browser_sign_in(redirect_uri=_oauth_redirect_uri())
        and form.validate_on_submit()
        and (done := _sign_in(instance, flow, form)) is not None
    ):
        return done
    return _link_page(instance, flow, form)


def _sign_in(
    instance: ConnectorInstance, flow: LinkingFlow, form: LinkForm
) -> ResponseReturnValue | None:
    """Sign in and link; go to the code step when asked; None (with a message) on failure."""
    school = form.school_name() or None
    outcome = flow.sign_in(
        login=form.login.data, password=form.password.data, school=school, name=form.name.data
    )
    if isinstance(outcome, NeedsCode):
        session["pending_link"] = outcome.token
        return redirect(url_for("children.code", key=instance.key), 303)
    if isinstance(outcome, Refused) and outcome.reason in SCHOOL_REFUSALS:
        form.school.data = school
        form.school.errors = [explain(outcome.reason, instance)]
        form.schools = outcome.candidates
        return None
    return _shown(instance, outcome)


def _pending_of(flow: LinkingFlow) -> PendingLink | None:
    return flow.pending(session.get("pending_link", ""))


def _code_again() -> str:
    """Render the code step again with what was typed (the link form when it expired)."""
    instance = _instance((request.view_args or {})["key"])
    pending = _pending_of(_flow(instance))
    if pending is None:
        return _link_again()
    form = CodeForm(name=pending.display_name)
    return render_template("children/code.html", form=form, instance=instance, pending=pending)


@bp.route("/link/<key>/code", methods=["GET", "POST"])
@login_required
@limiter.limit(
    _credentials_limit, key_func=_per_person, methods=["POST"], on_breach=keep_form(_code_again)
)
def code(key: str) -> ResponseReturnValue:
    """Ask for the one-time code the school system sent, and finish linking."""
    instance = _instance(key)
    flow = _flow(instance)
    pending = _pending_of(flow)
    if pending is None:
        flash(_("Время на ввод кода истекло. Введите логин и пароль ещё раз."), "error")
        return redirect(url_for("children.link", key=key))
    form = CodeForm(name=pending.display_name or next_free_name(db.session, current_user))
    if form.validate_on_submit():
        outcome = flow.confirm_code(
            session["pending_link"], pending, code=form.code.data, name=form.name.data
        )
        if isinstance(outcome, Linked | Refused):
            done = _shown(instance, outcome)
            return done or redirect(url_for("children.link", key=instance.key), 303)
        form.code.errors = [_("Неверный код. Попробуйте ещё раз.")]
    return render_template("children/code.html", form=form, instance=instance, pending=pending)


@bp.get("/link/<key>/authorize")
@login_required
def authorize(key: str) -> ResponseReturnValue:
    """Send the parent to the school system's own sign-in page."""
    flow = _flow(_instance(key))
    if not flow.in_browser:
        abort(404)
    state = secrets.token_urlsafe(24)
    session["link_oauth"] = {"state": state, "key": key}
    url = flow.browser_url(redirect_uri=_oauth_redirect_uri(), state=state)
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
    flow = _flow(instance)
    if "code" not in request.args or not flow.in_browser:
        flash(_("Вход в школьную систему не завершён. Ничего не сохранено."), "error")
        return redirect(url_for("children.link", key=instance.key))
    outcome = flow.complete_in_browser(
        code=request.args["code"], redirect_uri=_oauth_redirect_uri()
    )
    return _shown(instance, outcome) or redirect(url_for("children.link", key=instance.key))
