"""The family page and a child's grades."""

from __future__ import annotations

import logging

from flask import Blueprint
from flask import abort
from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login import login_required

from connectors.errors import ConnectorError
from gateway.extensions import db
from gateway.services import access
from gateway.services.backend import RelinkRequired
from gateway.services.diary import DiaryReader
from gateway.services.diary import last_school_month
from gateway.wiring import services

bp = Blueprint("diary", __name__)
log = logging.getLogger(__name__)


@bp.get("/")
def family() -> ResponseReturnValue:
    """Show every child the person follows, or how to start."""
    if not current_user.is_authenticated:
        return render_template("diary/welcome.html")
    children = access.children_of(db.session, current_user)
    return render_template("diary/family.html", children=children)


@bp.get("/child/<int:child_id>")
@login_required
def child(child_id: int) -> ResponseReturnValue:
    """Show a child's marks of the last school month by subject."""
    try:
        link = access.require_child(db.session, current_user, child_id)
    except access.ChildNotFound:
        abort(404)
    svc = services()
    period = last_school_month(svc.now().date())
    reader = DiaryReader(db.session, pool=svc.pool, vault=svc.vault, now=svc.now)
    report = problem = None
    try:
        report = reader.grades(link, period)
    except RelinkRequired:
        problem = "relink"
    except ConnectorError as err:
        log.warning("diary of child %s unavailable: %s", link.id, type(err).__name__)
        problem = "unavailable"
    db.session.commit()
    return render_template(
        "diary/child.html", child=link, period=period, report=report, problem=problem
    )
