"""Checks that run before a view: who is signed in, whether a body is too large, and
whether the person's account is of the level an area needs.

Each is a plain function; the wiring or a blueprint registers it, so several areas can share
one guard without importing each other's views.
"""

from __future__ import annotations

from flask import Request
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from flask import session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.extensions import db
from gateway.models import User
from gateway.runtime import Services
from gateway.runtime import session_timeouts
from gateway.services import sessions
from gateway.services import users


def load_user(_request: Request) -> User | None:
    """Find the person from the cookie's session id, while that server-side session is live.

    The id is all the cookie holds: Flask-Login's own keys (user id, freshness, a hash of
    the address) are never written, since the session row already decides.
    """
    session_id = session.get("sid")
    if not session_id:
        return None
    record = sessions.current(
        db.session, str(session_id), now=Services.now(), timeouts=session_timeouts()
    )
    if db.session.dirty:  # a touch of last_seen_at, or an ending for a timeout
        db.session.commit()
    # Held for the request: the session's identity map keeps rows only while something
    # does, and the consent check asks for this row again.
    g.user_session = record
    return record.user if record is not None else None


def refuse_large_bodies() -> None:
    """Answer 413 from the Content-Length alone: before CSRF, a view or anything reads it."""
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge


def require_account_level() -> ResponseReturnValue | None:
    """Linking needs an identity-provider account of the configured level or higher."""
    if not current_user.is_authenticated:
        return None
    minimum = current_app.config["LINK_MIN_LEVEL"]
    if users.has_level(current_user, minimum):
        return None
    page = render_template(
        "children/level.html",
        level=current_user.account_level,
        minimum=minimum,
        provider=current_app.config["OIDC_ISSUER"],
    )
    return page, 403
