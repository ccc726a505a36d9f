"""The NetSchool emulator over real HTTP, driven with ``requests`` as a connector would."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
import requests

from regional_mock.netschool import create_app
from regional_mock.world import World
from tests.regional_mock.conftest import TODAY
from tests.regional_mock.helpers import ALEXEY
from tests.regional_mock.helpers import MAXIM
from tests.support.live import serving

TIMEOUT = (3, 10)


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    """Serve a fresh emulator on a free loopback port."""
    with serving(create_app(world)) as url:
        yield url


def _sign_in(base: str, login: str, password: str) -> requests.Session:
    http = requests.Session()
    http.get(f"{base}/webapi/logindata", timeout=TIMEOUT).raise_for_status()
    meta = http.post(f"{base}/webapi/auth/getdata", timeout=TIMEOUT).json()
    inner = hashlib.md5(password.encode("windows-1251")).hexdigest()
    pw2 = hashlib.md5((meta["salt"] + inner).encode()).hexdigest()
    form = {"loginType": 1, "scid": 63003, "un": login, "pw": pw2[: len(password)], "pw2": pw2}
    form |= {"lt": meta["lt"], "ver": meta["ver"]}
    reply = http.post(f"{base}/webapi/login", data=form, timeout=TIMEOUT)
    reply.raise_for_status()
    http.headers["at"] = reply.json()["at"]
    return http


def test_a_requests_session_signs_in_and_reads_both_siblings(base_url: str, world: World) -> None:
    http = _sign_in(base_url, *ALEXEY)
    init = http.get(f"{base_url}/webapi/student/diary/init", timeout=TIMEOUT).json()
    names = [s["nickName"] for s in init["students"]]
    assert names == ["Кузнецова Дарья", "Кузнецов Егор"]
    egor = init["students"][1]["studentId"]
    start = TODAY - dt.timedelta(days=TODAY.weekday())
    query = {"studentId": egor, "weekStart": start, "weekEnd": start + dt.timedelta(6)}
    diary = http.get(f"{base_url}/webapi/student/diary", params=query, timeout=TIMEOUT)
    assert diary.status_code == 200 and diary.json()["className"] == "1Б"
    assert http.post(f"{base_url}/webapi/auth/logout", timeout=TIMEOUT).status_code == 200


def test_stats_count_sign_ins_over_http(base_url: str, world: World) -> None:
    requests.post(f"{base_url}/__admin/stats/reset", timeout=TIMEOUT)
    http = _sign_in(base_url, "СмирноваИС", "Пароль-2026")
    maxim = world.student_by_name(MAXIM).id
    http.get(f"{base_url}/webapi/student/diary?studentId={maxim}", timeout=TIMEOUT)
    stats = requests.get(f"{base_url}/__admin/stats", timeout=TIMEOUT).json()
    assert stats["POST /webapi/login"] == 1 and stats["GET /webapi/student/diary"] == 1


def test_maintenance_over_http_is_an_html_page(base_url: str) -> None:
    requests.post(f"{base_url}/__admin/faults", json={"mode": "maintenance"}, timeout=TIMEOUT)
    reply = requests.get(f"{base_url}/webapi/logindata", timeout=TIMEOUT)
    assert reply.status_code == 503 and reply.headers["Content-Type"].startswith("text/html")
