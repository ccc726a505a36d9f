"""Development pages: the gateway's outbox (SMS and e-mail it would send)."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue

from gateway.extensions import db
from gateway.services import outbox
from gateway.wiring import services

bp = Blueprint("devtools", __name__, url_prefix="/__dev")


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
