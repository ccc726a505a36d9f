"""NetSchool sign-in: logindata, auth/getdata, login, logout, session checks, school search."""

from __future__ import annotations

import hashlib
import secrets

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from regional_mock.netschool.sessions import WebSession
from regional_mock.netschool.wire import COOKIE
from regional_mock.netschool.wire import PRODUCT
from regional_mock.netschool.wire import VERSION
from regional_mock.netschool.wire import emulator
from regional_mock.netschool.wire import message
from regional_mock.netschool.wire import require_session
from regional_mock.netschool.wire import short_person
from regional_mock.netschool.wire import stamp
from regional_mock.records import Account
from regional_mock.records import School

bp = Blueprint("netschool_auth", __name__, url_prefix="/webapi")

WRONG = "Неправильный пароль или имя пользователя"
LOCKED = (
    "Вы совершили 3 неудачные попытки входа. "
    "Следующая попытка может быть совершена не ранее чем через минуту"
)
FAILED = "Ошибка входа в систему"


def expected_pw2(password: str, salt: str) -> str:
    """Return the ``pw2`` a client must send: md5(salt + md5(cp1251 password))."""
    inner = hashlib.md5(password.encode("cp1251")).hexdigest()
    return hashlib.md5((salt + inner).encode("ascii")).hexdigest()


def search_name(school: School) -> str:
    """Return the name as ``schools/search`` gives it: with the city and a trailing space."""
    return f"{school.short_name} (г. {school.city}) "


def _with_cookie(response: Response, cookie: str | None = None) -> Response:
    if cookie is None and COOKIE not in request.cookies:
        cookie = secrets.token_hex(16)
    if cookie is not None:
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="Lax")
    return response


@bp.get("/logindata")
def logindata() -> Response:
    """Describe the login options and hand out the session cookie."""
    return _with_cookie(
        jsonify(
            productName=PRODUCT,
            version=VERSION,
            schoolLogin=True,
            emLogin=False,
            esiaLogin=True,
            esiaLoginPage="",
            esiaMainAuth=False,
            esiaButton=True,
            signatureLogin=False,
            cacheVer="638612345678901234",
            windowsAuth=False,
            enableSms=False,
            esaLogin=False,
            esaLoginPage="",
        )
    )


@bp.post("/auth/getdata")
def getdata() -> Response:
    """Issue the per-attempt ``lt``, ``ver`` and ``salt`` digit strings."""
    challenge = emulator().state.new_challenge()
    return _with_cookie(jsonify(lt=challenge.lt, ver=challenge.ver, salt=challenge.salt))


@bp.post("/login")
@bp.post("/auth/login")
def login() -> Response:
    """Check the salted password hash and open a session; 409 with a message otherwise."""
    form = {key.lower(): value for key, value in request.form.items()}
    state = emulator().state
    challenge = state.take_challenge(form.get("lt", ""))
    if challenge is None or form.get("ver") != challenge.ver:
        return message(409, FAILED)
    if form.get("logintype", "1") != "1":
        return message(409, FAILED)
    account, school = _find_account(form.get("scid", ""), form.get("un", ""))
    if account is None or school is None:
        return message(409, WRONG)
    key = f"{school.id}/{account.login}"
    if state.locked(key):
        return message(409, LOCKED)
    password = state.password_of(account)
    pw2 = expected_pw2(password, challenge.salt)
    pw = form.get("pw")
    short_ok = pw is None or pw == pw2[: len(password)]
    if form.get("pw2", "").lower() != pw2 or not short_ok:
        left = state.fail(key)
        return message(409, f"{WRONG}. Осталось попыток: {left}" if left else LOCKED)
    state.succeed(key)
    cookie = request.cookies.get(COOKIE) or secrets.token_hex(16)
    session = state.open_session(account, cookie)
    return _with_cookie(jsonify(_login_answer(session, school)), cookie)


def _find_account(scid: str, login: str) -> tuple[Account | None, School | None]:
    world = emulator().world
    school = next((s for s in world.schools_for("netschool") if str(s.id) == scid.strip()), None)
    account = world.account("netschool", login.strip())
    if school is None or account is None:
        return None, school
    if any(world.student(i).school_id != school.id for i in account.student_ids):
        return None, school
    return account, school


def _login_answer(session: WebSession, school: School) -> dict[str, object]:
    """Build the §3.3 login answer."""
    account = session.account
    user = {"id": account.id, "name": short_person(account.holder)}
    timeout = emulator().state.timeout_ms
    return {
        "at": session.at,
        "code": None,
        "timeOut": timeout,
        "accessToken": session.at,
        "refreshToken": secrets.token_hex(16),
        "accountInfo": {
            "activeToken": None,
            "secureActiveToken": secrets.token_hex(8),
            "currentOrganization": {"id": school.id, "name": school.short_name},
            "user": user,
            "userRoles": [
                {"userId": account.id, "schoolId": school.id, "role": {"id": 2, "name": "Родитель"}}
            ],
            "organizations": [{"id": school.id, "name": search_name(school)}],
            "loginTime": stamp(session.login_time),
            "active": True,
            "canLogin": True,
            "storeTokens": False,
            "accessToken": session.at,
        },
        "tokenType": "Bearer",
        "entryPoint": "/angular/school/main/",
        "requestData": {"warnType": "0"},
        "errorMessage": None,
    }


@bp.route("/auth/logout", methods=["POST", "GET"])
def logout() -> Response:
    """End the session; 401 when it is already gone."""
    session = require_session()
    emulator().state.close(session.at)
    return Response(status=200)


@bp.get("/context/expired")
def context_expired() -> Response:
    """Answer a bare JSON boolean: true when the token's session is gone."""
    token = request.args.get("token", "")
    alive = bool(token) and emulator().state.session(token, touch=False) is not None
    return jsonify(not alive)


@bp.get("/schools/search")
def schools_search() -> Response:
    """Find schools by a name substring; 403 without ``name``, as servers since 2023 do."""
    name = request.args.get("name", "").strip().casefold()
    if not name:
        return message(403, "Доступ запрещен")
    found = []
    for school in emulator().world.schools_for("netschool"):
        full = search_name(school)
        if name in full.casefold() or name in school.name.casefold():
            found.append(
                {
                    "id": school.id,
                    "name": full,
                    "shortName": school.short_name,
                    "inn": school.inn,
                    "ogrn": school.ogrn,
                    "cityId": school.city_id,
                    "provinceId": 0,
                    "address": f"г. {school.city}",
                }
            )
    return jsonify(found)
