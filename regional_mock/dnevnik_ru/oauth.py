"""login.dnevnik.ru: the OAuth2 authorization endpoint and Dnevnik.ru's own sign-in page."""

from __future__ import annotations

from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import redirect
from flask import render_template_string
from flask import request

from regional_mock.dnevnik_ru.wire import Client
from regional_mock.dnevnik_ru.wire import emulator
from regional_mock.dnevnik_ru.wire import parse_scope
from regional_mock.records import Account

bp = Blueprint("dnevnik_oauth", __name__)
COOKIE = "DnevnikAuth_a"
WRONG = "Неверный логин или пароль"
LOCKED = "Превышено число попыток входа. Попробуйте позже или восстановите пароль."
PAGE = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>{{ title }} — Дневник.ру</title></head>
<body><header><b>Дневник.ру</b> · Тверская область</header><main>
{% if message %}<div class="message">{{ message }}</div>{% endif %}
{% if form %}<h1>Вход в Дневник.ру</h1>
<form method="post" action="/login/" class="login">
<input type="hidden" name="ReturnUrl" value="{{ return_url }}">
<label>Логин <input name="login" autocomplete="username" value="{{ login }}"></label>
<label>Пароль <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Войти</button></form>{% endif %}
{% if body %}<h1>{{ title }}</h1><p>{{ body }}</p>{% endif %}
{% if next_url %}<p><a id="continue" href="{{ next_url }}">Пропустить</a></p>{% endif %}
</main></body></html>
"""


def page(title: str, status: int = 200, **context: object) -> Response:
    """Render the emulator's HTML page."""
    defaults: dict[str, object] = {"message": None, "form": False, "body": None, "next_url": None}
    html = render_template_string(PAGE, title=title, **(defaults | context))
    return Response(html, status, content_type="text/html; charset=utf-8")


def local(url: str | None) -> str | None:
    """Keep only the path and query of a ReturnUrl (absolute dnevnik.ru URLs included)."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def signed_in() -> Account | None:
    """Return the account of the ``DnevnikAuth_a`` cookie."""
    cookie = request.cookies.get(COOKIE, "")
    return emulator().state.web_account(cookie) if cookie else None


def find_client(client_id: str) -> Client | None:
    """Return a partner or public client; GUIDs match with or without dashes."""
    state = emulator()
    wanted = client_id.replace("-", "").casefold()
    for client in [*state.partners.values(), *state.public.values()]:
        if client.client_id.replace("-", "").casefold() == wanted:
            return client
    return None


def _redirect_error(uri: str, error: str, state: str, *, fragment: bool) -> Response:
    query = urlencode({"error": error, "state": state})
    return redirect(f"{uri}{'#' if fragment else ('&' if '?' in uri else '?')}{query}")


# pydnevnikruapi 0.2.0 retries a sign-in stuck on an interstitial with a POST to ReturnUrl.
@bp.route("/oauth2", methods=["GET", "POST"])
def authorize() -> Response:
    """Check the client, send the browser to sign in, then grant a code or a token."""
    args = request.args
    client = find_client(args.get("client_id", ""))
    if client is None:
        return page("Ошибка", 400, body="Приложение не найдено (client_id).")
    response_type = args.get("response_type", "token").lower()
    redirect_uri = args.get("redirect_uri") or None
    if redirect_uri is not None and redirect_uri not in client.redirect_uris:
        return page("Ошибка", 400, body="Адрес возврата (redirect_uri) не зарегистрирован.")
    if redirect_uri is None and response_type == "code" and len(client.redirect_uris) == 1:
        redirect_uri = client.redirect_uris[0]
    state = args.get("state", "")
    if response_type not in ("code", "token") or (
        response_type == "code" and client.client_secret is None
    ):
        if redirect_uri is None:
            return page("Ошибка", 400, body="Неподдерживаемый response_type.")
        return _redirect_error(redirect_uri, "unsupported_response_type", state, fragment=False)
    scope = parse_scope(args.get("scope") or ",".join(client.scope))
    if scope is None or not set(scope) <= set(client.scope):
        if redirect_uri is None:
            return page("Ошибка", 400, body="Запрошены недопустимые права доступа (scope).")
        fragment = response_type == "token"
        return _redirect_error(redirect_uri, "invalid_scope", state, fragment=fragment)
    account = signed_in()
    if account is None or args.get("prompt") == "login":
        again = {k: v for k, v in args.items() if k != "prompt"}
        return redirect("/login/?" + urlencode({"ReturnUrl": "/oauth2?" + urlencode(again)}))
    return _grant(client, account, response_type, redirect_uri, scope, state)


def _grant(
    client: Client,
    account: Account,
    response_type: str,
    redirect_uri: str | None,
    scope: tuple[str, ...],
    state: str,
) -> Response:
    """Redirect with a code (query) or an implicit token (fragment, §1.1)."""
    store = emulator().state
    if response_type == "code":
        grant = store.new_grant(account, client.client_id, redirect_uri, scope)
        joiner = "&" if "?" in str(redirect_uri) else "?"
        return redirect(f"{redirect_uri}{joiner}{urlencode({'code': grant.code, 'state': state})}")
    token = store.issue(account, scope, client.client_id, refresh=False)
    fragment = f"access_token={token.access_token}&state={state}"
    if redirect_uri is not None:
        return redirect(f"{redirect_uri}#{fragment}")
    query = urlencode(
        {
            "response_type": "token",
            "client_id": client.client_id,
            "scope": ",".join(scope),
            "is_granted": "False",
            "result": "success",
        }
    )
    return redirect(f"/oauth2/Authorization/Result?{query}#{fragment}")


@bp.get("/oauth2/Authorization/Result")
def result() -> Response:
    """Show Dnevnik.ru's own result page (the token sits in the fragment)."""
    done = request.args.get("result") == "success"
    return page("Авторизация", body="Доступ разрешён." if done else "Доступ не предоставлен.")


@bp.get("/login/")
def login_form() -> Response:
    """Show the sign-in form."""
    return_url = local(request.args.get("ReturnUrl")) or ""
    return page("Вход", form=True, return_url=return_url, login="")


@bp.post("/login/")
def login() -> Response:
    """Check the login and password (form fields or, as pydnevnikruapi sends, the query)."""
    values = request.values
    login_name = values.get("login", "").strip()
    return_url = local(values.get("ReturnUrl"))
    state = emulator().state
    account = emulator().world.account("dnevnik_ru", login_name) if login_name else None
    if state.locked(login_name):
        return page(
            "Вход", message=LOCKED, form=True, return_url=return_url or "", login=login_name
        )
    if account is None or values.get("password", "") != account.password:
        state.fail(login_name)
        return page("Вход", message=WRONG, form=True, return_url=return_url or "", login=login_name)
    state.succeed(login_name)
    target = return_url or "/"
    if emulator().esia_offer:
        target = "/esia/auth/message/OfferLinkingAccounts?" + urlencode({"ReturnUrl": target})
    response = redirect(target)
    response.set_cookie(COOKIE, state.open_web_session(account), httponly=True, samesite="Lax")
    return response


@bp.get("/esia/auth/message/OfferLinkingAccounts")
def offer_linking() -> Response:
    """Show the «link your Госуслуги account» interstitial (kesha1225/DnevnikRuAPI PR #9)."""
    next_url = local(request.args.get("ReturnUrl")) or "/"
    body = "Свяжите учётную запись Дневник.ру с Госуслугами, чтобы входить через ЕСИА."
    return page("Госуслуги", body=body, next_url=next_url)


@bp.get("/")
def home() -> Response:
    """Show who is signed in."""
    account = signed_in()
    if account is None:
        return redirect("/login/")
    return page("Дневник.ру", body=f"Вы вошли как {account.holder}.")
