"""Error pages and the health check."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from gateway.extensions import db

bp = Blueprint("errors", __name__)


def _page(status: int, message: str) -> ResponseReturnValue:
    if request.accept_mimetypes.best == "application/json":
        return {"error": message}, status
    return render_template("errors/error.html", status=status, message=message), status


@bp.app_errorhandler(CSRFError)
def csrf_error(err: CSRFError) -> ResponseReturnValue:
    """Explain an expired or missing form token instead of a bare 400."""
    return _page(400, _("Форма устарела. Обновите страницу и отправьте её ещё раз."))


@bp.app_errorhandler(404)
def not_found(err: HTTPException) -> ResponseReturnValue:
    """Say plainly that there is nothing here."""
    return _page(404, _("Такой страницы нет."))


@bp.app_errorhandler(429)
def too_many(err: HTTPException) -> ResponseReturnValue:
    """Ask the person to wait before trying again; a form's own refusal keeps the form."""
    if err.response is not None:
        return err.response
    return _page(429, _("Слишком много попыток. Подождите немного и попробуйте снова."))


@bp.app_errorhandler(500)
def server_error(err: HTTPException) -> ResponseReturnValue:
    """Roll back whatever the request had started, then apologise."""
    db.session.rollback()
    return _page(500, _("Что-то пошло не так. Мы уже разбираемся."))


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Tell a load balancer this instance is up."""
    return {"status": "ok"}
