"""Drive the MESH emulator's sign-in the way a server-side connector does, for the tests."""

from __future__ import annotations

import hashlib
import typing as t

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

IRINA = ("irina.smirnova", "Mesh-2026-parent")
OTHER = ("other.parent", "Other-2026")
ARTEM = "Смирнов Артём Дмитриевич"
CODE = "424242"
CALLBACK = "http://localhost/v3/auth/sudir/callback"
AUTHORIZE = {
    "client_id": "dnevnik.mos.ru",
    "response_type": "code",
    "access_type": "offline",
    "scope": "openid profile birthday contacts snils blitz_user_rights blitz_change_password",
    "redirect_uri": CALLBACK,
    "state": "7f1d7a52-8f8e-4d1b-9d0c-0d7c1f2e3a4b",
    "display": "script",
}
EXTRA = [{"login": OTHER[0], "password": OTHER[1], "holder": "Петрова Анна Игоревна"}]


def solve(header: str, bits: int = 15) -> str:
    """Solve the hashcash proof of work as OctoDiary does: append a hex counter."""
    counter = 0
    while True:
        stamp = header + format(counter, "x")
        digest = int.from_bytes(hashlib.sha1(stamp.encode()).digest(), "big")
        if digest >> (160 - bits) == 0:
            return stamp
        counter += 1


def start(client: FlaskClient) -> str:
    """Open the authorize step; return the proof-of-work header."""
    reply = client.get("/sps/oauth/ae", query_string=AUTHORIZE)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    items = reply.get_json()["items"]
    return next(i["proofOfWork"] for i in items if i["inquire"] == "login_with_password")


def password(client: FlaskClient, login: str, secret: str) -> TestResponse:
    """Run authorize and the headless password step; return the password reply."""
    header = start(client)
    body = {"login": login, "password": secret, "proofOfWork": solve(header)}
    return client.post("/sps/login/methods/headless/password", json=body)


def code_from(reply: TestResponse) -> str:
    """Return the ``code`` of a redirect to the callback."""
    assert reply.status_code == 302, reply.get_data(as_text=True)
    location = reply.headers["Location"]
    assert location.startswith(CALLBACK)
    return location.split("code=")[1].split("&")[0]


def sms_step(client: FlaskClient, code: str = CODE, action: str = "trust") -> TestResponse:
    """Ask for the SMS, enter ``code`` and answer askToTrust; return the last reply."""
    sent = client.post("/sps/login/methods/headless/sms/bind")
    assert sent.get_json()["inquire"] == "enter_sms_code"
    checked = client.post("/sps/login/methods/headless/sms/bind", data={"sms-code": code})
    if checked.status_code != 303:
        return checked
    return client.post("/sps/login/ur/askToTrust", data={"action": action})


def token_of(client: FlaskClient, reply: TestResponse) -> str:
    """Follow the redirect to the callback and return the ``aupd_token`` cookie."""
    landed = client.get(f"/v3/auth/sudir/callback?code={code_from(reply)}")
    assert landed.status_code == 302
    cookie = client.get_cookie("aupd_token")
    assert cookie is not None
    return cookie.value


def sign_in(client: FlaskClient, login: str = IRINA[0], secret: str = IRINA[1]) -> str:
    """Sign in through password, SMS and trust; return the MESH token."""
    first = password(client, login, secret)
    assert first.get_json()["inquire"] == "choose_one", first.get_json()
    return token_of(client, sms_step(client))


def api(token: str, subsystem: str = "familyweb", **extra: str) -> dict[str, t.Any]:
    """Return the headers of a family API call."""
    return {"Authorization": f"Bearer {token}", "X-Mes-Subsystem": subsystem, **extra}
