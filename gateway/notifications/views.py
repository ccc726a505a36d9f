"""A person's notification preferences, and the one-click unsubscribe of notification e-mail."""

from __future__ import annotations

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

from gateway.extensions import csrf
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.notifications.forms import KIND_LABELS
from gateway.notifications.forms import DeviceForm
from gateway.notifications.forms import NotificationsForm
from gateway.notifications.forms import TelegramForm
from gateway.runtime import services
from gateway.services import dispatch
from gateway.services import preferences
from gateway.services import push
from gateway.services import telegram
from gateway.services.notify import Delivery

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
UNSUBSCRIBE_LIMIT = "30 per minute"


def telegram_configured() -> bool:
    """Tell whether a bot is configured (its token and its username)."""
    config = current_app.config
    return bool(config.get("TELEGRAM_TOKEN") and config.get("TELEGRAM_BOT"))


def vapid_public_key() -> str | None:
    """Return the key browsers subscribe with, or None when push is not configured."""
    key = current_app.config.get("VAPID_KEY")
    return push.application_server_key(key) if key else None


def _form(current: preferences.Settings) -> NotificationsForm:
    """Return the form: what was posted, or the stored settings."""
    if request.method == "POST":
        return NotificationsForm()
    return NotificationsForm(
        data={
            "email": current.email,
            "details": current.details,
            "quiet_from": current.quiet_from,
            "quiet_until": current.quiet_until,
            "digest_at": current.digest_at,
            "time_zone": current.time_zone or "",
            "deliveries": [choice.delivery.value for choice in current.choices],
        }
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    """Show and save when and how this person hears of each child's news."""
    current = preferences.settings_of(db.session, current_user, now=services().now())
    form = _form(current)
    if form.validate_on_submit():
        if len(form.deliveries.entries) != len(current.choices):
            flash(
                _(
                    "Список детей изменился, пока страница была открыта."
                    " Проверьте и сохраните ещё раз."
                ),
                "error",
            )
            return redirect(url_for("notifications.index"), 303)
        preferences.save(
            db.session,
            current_user,
            _settings(form),
            _deliveries(form, current),
            allowed=current.choices,
        )
        db.session.commit()
        flash(_("Настройки уведомлений сохранены."), "success")
        return redirect(url_for("notifications.index"), 303)
    rows = list(zip(current.choices, form.deliveries.entries, strict=False))
    return render_template(
        "notifications/index.html",
        form=form,
        rows=rows,
        kind_labels=KIND_LABELS,
        push_key=vapid_public_key(),
        devices=push.devices_of(db.session, current_user.id),
        device_form=DeviceForm(),
        telegram_offered=telegram_configured(),
        telegram_chat=telegram.chat_of(db.session, current_user.id),
        telegram_form=TelegramForm(),
    )


def _settings(form: NotificationsForm) -> preferences.Settings:
    return preferences.Settings(
        email=form.email.data,
        details=form.details.data,
        quiet_from=form.quiet_from.data,
        quiet_until=form.quiet_until.data,
        digest_at=form.digest_at.data,
        time_zone=form.time_zone.data or None,
    )


def _deliveries(form: NotificationsForm, current: preferences.Settings) -> dict[t.Any, Delivery]:
    return {
        (choice.link.id, choice.kind): Delivery(entry.data)
        for choice, entry in zip(current.choices, form.deliveries.entries, strict=True)
    }


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail client POSTs without a session; the signed token is the proof
@limiter.limit(UNSUBSCRIBE_LIMIT)
def unsubscribe(token: str) -> ResponseReturnValue:
    """Ask to confirm on GET (link checkers follow links); stop the e-mail on POST."""
    try:
        person = dispatch.unsubscribed_user(current_app.config["SECRET_KEY"], token)
    except dispatch.BadUnsubscribeToken:
        abort(404)
    if request.method == "GET":
        return render_template("notifications/unsubscribe.html", token=token)
    if not dispatch.stop_email(db.session, person):
        abort(404)
    db.session.commit()
    return render_template("notifications/unsubscribed.html")
