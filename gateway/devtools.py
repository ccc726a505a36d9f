"""Development pages (never registered in production): the outbox, the demo's mail, and the
backends' faults.

The backends page drives each emulator's fault admin (``regional_mock.faults``:
``/__admin/faults`` at the instance's base URL), so that a newcomer can take a region's
system down, slow it or break it, watch the gateway show the last good data as stale, and
bring it back, without stopping any process.
"""

from __future__ import annotations

import email
import email.policy
import typing as t
from email.message import EmailMessage
from pathlib import Path

import requests
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
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import ValidationError

from gateway.extensions import db
from gateway.forms import BaseForm
from gateway.runtime import services
from gateway.services import instances
from gateway.services import outbox

if t.TYPE_CHECKING:
    from gateway.models import ConnectorInstance

bp = Blueprint("devtools", __name__, url_prefix="/__dev")

# (connect, read) seconds: the admin endpoint answers at once, even while the API is slowed.
ADMIN_TIMEOUT = (2, 5)
# Button -> what it asks the emulator for (a JSON body for POST /__admin/faults).
FAULTS: dict[str, dict[str, t.Any]] = {
    "down": {"mode": "maintenance", "maintenance_status": 503},
    "error": {"mode": "5xx"},
    "malformed": {"mode": "malformed_json"},
}
ACTIONS = (*FAULTS, "slow", "restore")


class SlowForm(BaseForm):
    """How many seconds every request to the backend should take longer."""

    seconds = StringField(
        _l("Задержка, секунд"),
        default="10",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(message=_l("Укажите задержку в секундах."))],
    )

    def validate_seconds(self, field: StringField) -> None:
        """Accept a whole number of seconds from 1 to 120."""
        value = field.data or ""
        if not value.isdigit() or not 1 <= int(value) <= 120:
            raise ValidationError(_l("Задержка — целое число секунд от 1 до 120."))


@bp.get("/outbox")
def outbox_page() -> ResponseReturnValue:
    """List the latest queued messages (never registered in production).

    This page is the development transport: showing a message delivers it, so a link it
    carries is shown once and is no longer stored afterwards.
    """
    svc = services()
    messages = [
        outbox.deliver(db.session, m, vault=svc.vault, now=svc.now())
        for m in outbox.latest(db.session)
    ]
    db.session.commit()
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return {
            "messages": [
                {
                    "channel": m.channel,
                    "to": m.recipient,
                    "subject": m.subject,
                    "body": m.text,
                    "link": m.secrets.get("link"),
                }
                for m in messages
            ]
        }
    return render_template("devtools/outbox.html", messages=messages)


@bp.get("/mail")
def mail_page() -> ResponseReturnValue:
    """Show the e-mail the demo's SMTP server received, newest first, headers and text."""
    folder = current_app.config.get("DEV_MAIL_DIR")
    letters = _received(Path(folder)) if folder else []
    return render_template("devtools/mail.html", letters=letters, folder=folder)


def _received(folder: Path, limit: int = 50) -> list[EmailMessage]:
    files = sorted(folder.glob("*.eml"), reverse=True)[:limit] if folder.is_dir() else []
    return [
        t.cast(EmailMessage, email.message_from_bytes(f.read_bytes(), policy=email.policy.default))
        for f in files
    ]


@bp.get("/backends")
def backends() -> ResponseReturnValue:
    """List every registered backend with its faults and the buttons that change them."""
    return _backends_page()


@bp.post("/backends/<key>/<action>")
def change_backend(key: str, action: str) -> ResponseReturnValue:
    """Take a backend down, slow it, break it or restore it through its emulator's admin."""
    try:
        instance = instances.instance_by_key(db.session, key)
    except instances.InstanceError:
        abort(404)
    if action not in ACTIONS:
        abort(404)
    body = FAULTS.get(action)
    if action == "slow":
        form = SlowForm()
        if not form.validate():
            return _backends_page(slow=(key, form), status=400)
        body = {"latency_ms": int(form.seconds.data) * 1000}
    try:
        _admin(instance, body)
    except (requests.RequestException, ValueError):
        flash(_("Эмулятор по адресу %(url)s не отвечает.", url=instance.base_url), "error")
    else:
        if action == "restore" and services().pool.budget is not None:
            # The system works again: no waiting out the cool-down its failures opened.
            services().pool.budget.reset(instance.id)
        flash(f"{instance.region_name}: {describe(instance)}", "success")
    return redirect(url_for(".backends"), 303)


def _backends_page(
    *, slow: tuple[str, SlowForm] | None = None, status: int = 200
) -> ResponseReturnValue:
    listed = sorted(instances.all_instances(db.session), key=lambda i: i.region_name)
    rows = [
        (
            instance,
            describe(instance),
            slow[1] if slow and slow[0] == instance.key else SlowForm(formdata=None),
        )
        for instance in listed
    ]
    return render_template("devtools/backends.html", rows=rows), status


def _admin(instance: ConnectorInstance, body: dict[str, t.Any] | None) -> None:
    """Set faults (``body``), or clear them all (None), at the instance's emulator."""
    url = instance.base_url.rstrip("/") + "/__admin/faults"
    if body is None:
        reply = requests.delete(url, timeout=ADMIN_TIMEOUT)
    else:
        reply = requests.post(url, json=body, timeout=ADMIN_TIMEOUT)
    reply.raise_for_status()


def describe(instance: ConnectorInstance) -> str:
    """Say what the instance's emulator does to requests now, in the interface language."""
    try:
        reply = requests.get(
            instance.base_url.rstrip("/") + "/__admin/faults", timeout=ADMIN_TIMEOUT
        )
        reply.raise_for_status()
        faults = reply.json()
    except (requests.RequestException, ValueError):
        return _("эмулятор не отвечает")
    modes = {
        None: _("работает"),
        "maintenance": _("отключена: технические работы"),
        "5xx": _("сломана: отвечает ошибкой 503"),
        "malformed_json": _("сломана: отвечает битым JSON"),
        "429": _("перегружена: отвечает 429"),
    }
    text = modes.get(faults.get("mode"), str(faults.get("mode")))
    if latency := int(faults.get("latency_ms") or 0):
        seconds = format(latency / 1000, "g")
        text += ", " + _("каждый запрос дольше на %(seconds)s с", seconds=seconds)
    return text
