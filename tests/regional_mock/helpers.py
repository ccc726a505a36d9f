"""Drive the NetSchool emulator the way the public clients do, for the tests."""

from __future__ import annotations

import hashlib
import typing as t

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

LYCEUM = 63003
MAXIM = "Смирнов Максим Дмитриевич"
IRINA = ("СмирноваИС", "Пароль-2026")
ALEXEY = ("КузнецовАП", "Дарья2015")


class FakeClock:
    """A monotonic clock that only moves when a test says so."""

    def __init__(self) -> None:
        """Start at an arbitrary instant."""
        self.now = 1000.0

    def __call__(self) -> float:
        """Return the current instant in seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


def hashes(password: str, salt: str, encoding: str = "cp1251") -> tuple[str, str]:
    """Return ``(pw, pw2)`` as the clients compute them (note §1.2)."""
    inner = hashlib.md5(password.encode(encoding)).hexdigest()
    pw2 = hashlib.md5((salt + inner).encode()).hexdigest()
    return pw2[: len(password)], pw2


def attempt(
    client: FlaskClient,
    login: str,
    password: str,
    *,
    scid: int = LYCEUM,
    encoding: str = "cp1251",
    **overrides: t.Any,
) -> TestResponse:
    """Run logindata, auth/getdata and login; return the login response."""
    client.get("/webapi/logindata")
    meta = client.post("/webapi/auth/getdata").get_json()
    pw, pw2 = hashes(password, meta["salt"], encoding)
    form = {
        "loginType": 1,
        "scid": scid,
        "un": login,
        "pw": pw,
        "pw2": pw2,
        "lt": meta["lt"],
        "ver": meta["ver"],
        **overrides,
    }
    return client.post("/webapi/login", data=form)


def sign_in(client: FlaskClient, login: str, password: str) -> dict[str, str]:
    """Sign in and return the headers of data calls (``at``)."""
    reply = attempt(client, login, password)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return {"at": reply.get_json()["at"]}
