"""Web Push in this person's browsers: subscribe one, forget one, list them.

The page's script (static/push.js) subscribes the browser at its push service and posts
the subscription here as JSON, with the page's CSRF token in ``X-CSRFToken``; the list of
devices on the preferences page removes any of them with a plain form.
"""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from gateway.extensions import db
from gateway.extensions import limiter
from gateway.notifications.forms import DeviceForm
from gateway.notifications.views import bp
from gateway.notifications.views import vapid_public_key
from gateway.runtime import services
from gateway.services import egress
from gateway.services import push

SUBSCRIBE_LIMIT = "20 per minute"


def _refusal(message: str, status: int = 400) -> ResponseReturnValue:
    return jsonify(error=message), status


@bp.post("/push")
@login_required
@limiter.limit(SUBSCRIBE_LIMIT)
def subscribe() -> ResponseReturnValue:
    """Keep this browser's push subscription for the person signed in."""
    if vapid_public_key() is None:
        return _refusal(_("Уведомления в браузере на этом сервере не настроены."), 404)
    allow_private = bool(current_app.config["ALLOW_PRIVATE_BACKENDS"])
    try:
        subscription = push.read_subscription(
            request.get_json(silent=True), allow_http=allow_private
        )
        if not allow_private:
            egress.check_url(subscription.endpoint)
    except (push.BadSubscription, egress.RefusedAddress):
        return _refusal(_("Браузер прислал подписку, которую шлюз не может принять."))
    device = push.device_name(request.headers.get("User-Agent", ""))
    push.subscribe(db.session, current_user.id, subscription, device=device, now=services().now())
    db.session.commit()
    return jsonify(device=device), 201


@bp.post("/push/forget")
@login_required
def forget_browser() -> ResponseReturnValue:
    """Forget this browser's subscription (the person turned push off in it)."""
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return _refusal(_("Браузер не сказал, какую подписку забыть."))
    push.forget(db.session, current_user.id, endpoint=endpoint)
    db.session.commit()
    return "", 204


@bp.post("/devices/<int:device_id>/remove")
@login_required
def remove_device(device_id: int) -> ResponseReturnValue:
    """Stop pushing to one of the person's devices, chosen from the list."""
    form = DeviceForm()
    if not form.validate_on_submit():
        abort(400)
    if not push.forget(db.session, current_user.id, device_id=device_id):
        abort(404)  # not theirs, or removed already: the same answer
    db.session.commit()
    flash(_("Устройство больше не получит уведомлений."), "success")
    return redirect(url_for("notifications.index"), 303)
