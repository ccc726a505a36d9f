"""Development pages: the gateway's outbox (SMS and e-mail it would send)."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue

from gateway.extensions import db
from gateway.services import outbox

bp = Blueprint("devtools", __name__, url_prefix="/__dev")


@bp.get("/outbox")
def outbox_page() -> ResponseReturnValue:
    """List the latest queued messages (never registered in production)."""
    messages = outbox.latest(db.session)
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return {
            "messages": [
                {
                    "channel": m.channel,
                    "to": m.recipient,
                    "subject": m.subject,
                    "body": m.body,
                    "link": m.payload.get("link"),
                }
                for m in messages
            ]
        }
    return render_template("devtools/outbox.html", messages=messages)
