"""Error pages and the health check."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from gateway.extensions import db

bp = Blueprint("errors", __name__)


def _page(
    status: int,
    message: str,
    *,
    back: str | None = None,
    sign_in: str | None = None,
    heading: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ResponseReturnValue:
    if request.accept_mimetypes.best == "application/json":
        return {"error": message}, status, dict(headers or {})
    page = render_template(
        "errors/error.html",
        status=status,
        message=message,
        back=back,
        sign_in=sign_in,
        heading=heading,
    )
    return page, status, dict(headers or {})


def _page_before() -> str | None:
    """Return the same-site page the request came from, as a path, to lead back to."""
    came_from = urlsplit(request.referrer or "")
    if came_from.netloc != request.host or not came_from.path.startswith("/"):
        return None
    return came_from.path + (f"?{came_from.query}" if came_from.query else "")


@bp.app_errorhandler(CSRFError)
def csrf_error(err: CSRFError) -> ResponseReturnValue:
    """Explain an expired or missing form token instead of a bare 400.

    Without a signed-in person the token failed because the session is gone (signed out
    in another tab, or it expired): say so and offer to sign in and come back to the form.
    """
    if not current_user.is_authenticated:
        back = _page_before()
        message = _("Вы вышли из сервиса или сеанс закончился. Войдите и отправьте форму снова.")
        sign_in = url_for("auth.login", next=back)
        return _page(400, message, sign_in=sign_in, heading=_("Вы не вошли в сервис"))
    return _page(400, _("Форма устарела. Обновите страницу и отправьте её ещё раз."))


@bp.app_errorhandler(404)
def not_found(err: HTTPException) -> ResponseReturnValue:
    """Say plainly that there is nothing here."""
    return _page(404, _("Такой страницы нет."))


@bp.app_errorhandler(413)
def too_large(err: HTTPException) -> ResponseReturnValue:
    """Refuse an oversized request unread, and lead back to the page it came from."""
    message = _(
        "Слишком большой запрос: сервис принимает не больше %(kb)d КБ за раз. "
        "Вернитесь на страницу и сократите текст.",
        kb=current_app.config["MAX_REQUEST_KB"],
    )
    return _page(413, message, back=_page_before())


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


def _plain_words(status: int) -> str:
    """Say in a sentence what an HTTP status means for the person who met it."""
    words = {
        400: _("Не удалось разобрать запрос. Вернитесь на страницу и попробуйте ещё раз."),
        401: _("Чтобы открыть эту страницу, войдите."),
        403: _("У вас нет доступа к этой странице."),
        405: _("Эту страницу нельзя открыть по ссылке: её открывает кнопка на странице сервиса."),
        410: _("Этой страницы больше нет."),
    }
    if status in words:
        return words[status]
    if status >= 500:
        return _("Сервис сейчас недоступен. Попробуйте немного позже.")
    return _("Не удалось открыть страницу. Вернитесь назад и попробуйте ещё раз.")


# Werkzeug's own headers that still matter on the styled page: which methods a URL takes
# (405), how to sign in (401), when to come back (503).
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


@bp.app_errorhandler(HTTPException)
def any_http_error(err: HTTPException) -> ResponseReturnValue:
    """Show every other HTTP error on the service's own page, keeping its status and headers."""
    if err.response is not None:
        return err.response
    status = err.code or 500
    kept = {name: value for name, value in err.get_headers() if name in _KEPT_HEADERS}
    return _page(status, _plain_words(status), back=_page_before(), headers=kept)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Tell a load balancer this instance is up."""
    return {"status": "ok"}
