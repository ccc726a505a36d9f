"""Telegram on the preferences page: connect a chat by a one-time deep link, disconnect it."""

from __future__ import annotations

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

from gateway.extensions import db
from gateway.extensions import limiter
from gateway.notifications.forms import TelegramForm
from gateway.notifications.views import bp
from gateway.notifications.views import telegram_configured
from gateway.runtime import services
from gateway.services import telegram

CONNECT_LIMIT = "10 per minute"


@bp.post("/telegram/connect")
@login_required
@limiter.limit(CONNECT_LIMIT)
def connect_telegram() -> ResponseReturnValue:
    """Make a one-time link that binds the chat opening it, and show it once."""
    if not telegram_configured():
        abort(404)
    if not TelegramForm().validate_on_submit():
        abort(400)
    token = telegram.start_binding(db.session, current_user.id, now=services().now())
    db.session.commit()
    config = current_app.config
    link = telegram.deep_link(config["TELEGRAM_LINK_URL"], config["TELEGRAM_BOT"], token)
    return render_template(
        "notifications/telegram.html",
        link=link,
        bot=config["TELEGRAM_BOT"],
        minutes=telegram.BINDING_MINUTES,
    )


@bp.post("/telegram/disconnect")
@login_required
def disconnect_telegram() -> ResponseReturnValue:
    """Stop sending to the person's Telegram chat."""
    if not TelegramForm().validate_on_submit():
        abort(400)
    if telegram.unbind(db.session, current_user.id):
        flash(_("Telegram отключён: сообщений туда больше не будет."), "success")
    db.session.commit()
    return redirect(url_for("notifications.index"), 303)
