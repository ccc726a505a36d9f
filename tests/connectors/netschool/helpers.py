"""Raw NetSchool payloads and a canned sign-in for the connector's tests."""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from pathlib import Path

import responses
from responses import matchers

from connectors.base import BackendSession

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://sgo.example-region.ru"
API = f"{BASE}/webapi"
AT = "48219374650192837465019283"
COOKIE = "0123456789abcdef0123456789abcdef"
LOGIN = "ПетроваА"
PASSWORD = "Пароль123"
PW = "4d5d743f0"
PW2 = "4d5d743f0bff0944149719b4f0a387c4"
SECRET = "operator-mobile-secret"
NOW = dt.datetime(2025, 10, 13, 8, 0, tzinfo=dt.UTC)


def load(name: str) -> t.Any:
    """Return the parsed JSON of ``fixtures/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def add_handshake(rsps: responses.RequestsMock, *, school_id: int = 1042) -> None:
    """Register logindata, auth/getdata and login (§3.1–3.3) in the order they must run."""
    rsps.get(
        f"{API}/logindata",
        json=load("logindata"),
        headers={"Set-Cookie": f"NSSESSIONID={COOKIE}; path=/; HttpOnly"},
    )
    rsps.post(
        f"{API}/auth/getdata",
        json=load("getdata"),
        match=[matchers.header_matcher({"Cookie": f"NSSESSIONID={COOKIE}"})],
    )
    form = {
        "loginType": "1",
        "scid": str(school_id),
        "un": LOGIN,
        "pw": PW,
        "pw2": PW2,
        "lt": "702948113",
        "ver": "770182265",
    }
    rsps.post(
        f"{API}/login", json=load("login_ok"), match=[matchers.urlencoded_params_matcher(form)]
    )


def with_session(*extra: t.Any) -> list[t.Any]:
    """Return matchers for the ``at`` header and session cookie, plus ``extra``."""
    headers = matchers.header_matcher({"at": AT, "Cookie": f"NSSESSIONID={COOKIE}"})
    return [headers, *extra]


def session(
    *, mobile_token: str | None = "mobile-token", year_id: int = 417, school_name: str | None = None
) -> BackendSession:
    """Return a session as :meth:`NetSchoolConnector.login` issues it."""
    types = {str(item["id"]): item["name"] for item in load("assignment_types")}
    data = {
        "at": AT,
        "cookies": {"NSSESSIONID": COOKIE},
        "school_id": 1042,
        "year_id": year_id,
        "work_types": types,
        "mobile_token": mobile_token,
        "school_name": school_name,
    }
    return BackendSession(connector="netschool", data=data, expires_at=NOW + dt.timedelta(hours=1))
