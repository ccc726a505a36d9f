"""Sign-in, sign-out and the personal-data consent."""

from __future__ import annotations

import logging
import secrets
import time
import typing as t
from urllib.parse import urlsplit

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_login import logout_user
from requests import RequestException

from gateway.auth.backchannel import LogoutTokenError
from gateway.auth.backchannel import validate_logout_token
from gateway.auth.forms import ConsentForm
from gateway.auth.forms import LogoutForm
from gateway.auth.oidc import SignInError
from gateway.auth.oidc import complete_sign_in
from gateway.auth.oidc import refreshed_claims
from gateway.extensions import csrf
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.runtime import services
from gateway.services import sessions
from gateway.services import signin
from gateway.services import users

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def _login_limit() -> str:
    return str(current_app.config["LIMIT_LOGIN"])


def _safe_next(target: str | None) -> str | None:
    """Keep only same-site relative paths, so sign-in cannot redirect elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    return target if not urlsplit(target).netloc else None


def _remember_next(path: str | None) -> None:
    """Keep where to go after sign-in, sealed: it may hold a bearer secret (an invitation)."""
    if path:
        session["next"] = signin.seal_next(path, vault=services().vault)
    else:
        session.pop("next", None)


def _recall_next() -> str | None:
    """Take the path kept by :func:`_remember_next`; None when there is none (or unreadable)."""
    return _safe_next(signin.open_next(session.pop("next", None), vault=services().vault))


@bp.get("/login")
@limiter.limit(_login_limit)
def login() -> ResponseReturnValue:
    """Send the person to the identity provider."""
    _remember_next(_safe_next(request.args.get("next")))
    redirect_uri = current_app.config["PUBLIC_URL"] + url_for("auth.callback")
    extra = {}
    if "offline_access" in current_app.config["OIDC_SCOPES"].split():
        extra["prompt"] = "consent"  # OIDC Core 11: offline access needs the person's consent
    return services().idp.authorize_redirect(redirect_uri, **extra)  # type: ignore[no-any-return]


@bp.get("/auth/callback")
@limiter.limit(_login_limit)
def callback() -> ResponseReturnValue:
    """Finish sign-in: validate everything, start a fresh session, ask for consent once."""
    config = current_app.config
    try:
        token = complete_sign_in(
            services().idp,
            request.args,
            issuer=config["OIDC_ISSUER"],
            client_id=config["OIDC_CLIENT_ID"],
        )
    except SignInError as err:
        return _sign_in_refused(err)
    signed = signin.start_session(
        db.session,
        token=token,
        issuer=config["OIDC_ISSUER"],
        vault=services().vault,
        now=services().now(),
    )
    db.session.commit()
    next_url = _recall_next()
    session.clear()  # a fresh session at sign-in: nothing from before survives
    session["sid"] = signed.record.id  # the cookie's only content: it is signed, not encrypted
    if users.needs_consent(db.session, signed.user, config["CONSENT_VERSION"]):
        _remember_next(next_url)
        return redirect(url_for("auth.consent"))
    return redirect(next_url or url_for("diary.family"))


def _sign_in_refused(err: SignInError) -> ResponseReturnValue:
    log.warning("sign-in rejected: %s", err)
    if current_user.is_authenticated and isinstance(err.__cause__, MismatchingStateError):
        # Sign-in started in two tabs: the first to return started a fresh session and
        # dropped the other's state; that tab's person is signed in already. Name them:
        # the second tab may have been meant for someone else on a shared computer.
        flash(_("Вход уже выполнен: %(name)s.", name=current_user.full_name), "info")
        return redirect(url_for("diary.family"))
    if err.denied:
        message = _("Вы отменили вход.")
    else:
        message = _("Не удалось войти. Попробуйте ещё раз.")
    return render_template("auth/failed.html", message=message), 400


@bp.route("/consent", methods=["GET", "POST"])
@login_required
def consent() -> ResponseReturnValue:
    """Ask for consent to personal-data processing, once per version of its text."""
    version = current_app.config["CONSENT_VERSION"]
    form = ConsentForm()
    if form.validate_on_submit():
        users.record_consent(db.session, current_user, version, now=services().now())
        db.session.commit()
        return redirect(_recall_next() or url_for("diary.family"), 303)
    return render_template("auth/consent.html", form=form, version=version)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    """End the gateway session, then the provider's (RP-initiated logout)."""
    form = LogoutForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("auth/logout.html", form=form)
    id_token = signin.end_session(
        db.session,
        signin.session_record(db.session, session.get("sid", "")),
        user=current_user if current_user.is_authenticated else None,
        everywhere=bool(form.everywhere.data),
        vault=services().vault,
        now=services().now(),
    )
    db.session.commit()
    logout_user()
    session.clear()
    return _provider_logout(id_token)


def _provider_logout(id_token: str | None) -> ResponseReturnValue:
    """Send the person on to end the provider's session too, when it can be ended."""
    idp = services().idp
    try:
        end_session = idp.load_server_metadata().get("end_session_endpoint")
    except RequestException:
        log.warning("the provider is unreachable; signed out of the gateway only")
        end_session = None
    if not end_session or not id_token:
        return redirect(url_for("diary.family"), 303)
    response = idp.logout_redirect(
        post_logout_redirect_uri=current_app.config["PUBLIC_URL"] + url_for("auth.logged_out"),
        id_token_hint=id_token,
        state=secrets.token_urlsafe(16),
    )
    response.status_code = 303
    return response  # type: ignore[no-any-return]


@bp.get("/auth/logged-out")
def logged_out() -> ResponseReturnValue:
    """Land here from the provider's logout; its ``state`` must be the one we sent."""
    try:
        services().idp.validate_logout_response()
    except AuthlibBaseError:
        log.warning("logout callback with a missing or foreign state")
        message = _("Не удалось подтвердить выход у поставщика входа. Закройте браузер.")
        return render_template("auth/failed.html", message=message), 400
    return render_template("auth/logged_out.html")


@bp.post("/auth/refresh-profile")
@login_required
@limiter.limit(_login_limit)
def refresh_profile() -> ResponseReturnValue:
    """Re-read the account level (and name) from the provider without signing in again."""
    config = current_app.config
    try:
        refreshed = signin.refresh_profile(
            db.session,
            signin.session_record(db.session, session.get("sid", "")),
            refresh=_provider_refresh,
            issuer=config["OIDC_ISSUER"],
            vault=services().vault,
            now=services().now(),
        )
    except SignInError as err:
        log.warning("profile refresh rejected: %s", err)
        message = _("Не удалось обновить данные. Войдите снова.")
        return render_template("auth/failed.html", message=message), 400
    if not refreshed:  # no refresh token: a fresh sign-in reads the level instead
        return redirect(url_for("auth.login", next=url_for("children.choose_region")))
    db.session.commit()
    return redirect(url_for("children.choose_region"), 303)


def _provider_refresh(refresh_token: str, scope: str | None) -> tuple[dict[str, t.Any], str | None]:
    """Refresh the signed-in person's tokens at the provider (:data:`signin.Refresh`)."""
    return refreshed_claims(
        services().idp,
        refresh_token,
        scope=scope,
        issuer=current_app.config["OIDC_ISSUER"],
        client_id=current_app.config["OIDC_CLIENT_ID"],
        subject=current_user.subject,
    )


@bp.post("/auth/backchannel-logout")
@csrf.exempt
@limiter.limit(_login_limit)
def backchannel_logout() -> ResponseReturnValue:
    """End the sessions the provider names in a signed logout token (on every instance)."""
    try:
        claims = _logout_claims(request.form.get("logout_token", ""))
    except (LogoutTokenError, RequestException) as err:
        log.warning("back-channel logout refused: %s", err)
        return {"error": "invalid_request"}, 400, {"Cache-Control": "no-store"}
    ended = sessions.end_for_provider(
        db.session,
        issuer=current_app.config["OIDC_ISSUER"],
        subject=claims.get("sub"),
        provider_sid=claims.get("sid"),
        now=services().now(),
    )
    db.session.commit()
    log.info("back-channel logout ended %d sessions", ended)
    return "", 200, {"Cache-Control": "no-store"}


def _logout_claims(token: str) -> dict[str, t.Any]:
    """Validate a logout token against the provider's keys; return its claims."""
    config, idp = current_app.config, services().idp
    metadata = idp.load_server_metadata()
    return validate_logout_token(
        token,
        issuer=config["OIDC_ISSUER"],
        client_id=config["OIDC_CLIENT_ID"],
        algorithms=metadata.get("id_token_signing_alg_values_supported", ["RS256"]),
        jwks=lambda force: idp.fetch_jwk_set(force=force),
        now=int(time.time()),
        first_use_of=_first_use_of,
    )


def _first_use_of(jti: str) -> bool:
    return signin.first_use_of_logout_token(jti, cache=services().cache)


@bp.get("/lang/<code>")
def language(code: str) -> ResponseReturnValue:
    """Switch the interface language."""
    if code in ("ru", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or url_for("diary.family"))


@bp.before_app_request
def require_consent() -> ResponseReturnValue | None:
    """Keep a signed-in person on the consent page until they accept its current text.

    The web app's manifest and service worker are no pages: the browser fetches them by
    itself, and one fetched meanwhile must not become where the person lands after consent.
    """
    if not current_user.is_authenticated or request.blueprint in ("auth", "errors", "pwa", None):
        return None
    version = current_app.config["CONSENT_VERSION"]
    record = signin.session_record(db.session, session.get("sid", ""))  # loaded with the user
    if record is None or record.consent_version == version:
        return None
    if users.needs_consent(db.session, current_user, version):
        _remember_next(_safe_next(request.path))
        return redirect(url_for("auth.consent"))
    record.consent_version = version
    db.session.commit()
    return None
