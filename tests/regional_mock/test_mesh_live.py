"""The MESH emulator over real HTTP, driven with ``requests`` as a connector would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests

from regional_mock import __main__ as cli
from regional_mock.mesh import create_app
from regional_mock.world import World
from tests.regional_mock import mesh_helpers as mh
from tests.regional_mock.conftest import TODAY
from tests.support.live import serving

TIMEOUT = (3, 10)


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    """Serve a fresh emulator on a free loopback port."""
    with serving(create_app(world)) as url:
        yield url


def _login(base: str, http: requests.Session) -> requests.Response:
    query = {**mh.AUTHORIZE, "redirect_uri": f"{base}/v3/auth/sudir/callback"}
    methods = http.get(f"{base}/sps/oauth/ae", params=query, timeout=TIMEOUT).json()
    header = methods["items"][0]["proofOfWork"]
    body = {"login": mh.IRINA[0], "password": mh.IRINA[1], "proofOfWork": mh.solve(header)}
    url = f"{base}/sps/login/methods/headless/password"
    return http.post(url, json=body, timeout=TIMEOUT, allow_redirects=False)


def _sms(base: str, http: requests.Session) -> requests.Response:
    bind = f"{base}/sps/login/methods/headless/sms/bind"
    assert http.post(bind, timeout=TIMEOUT).json()["inquire"] == "enter_sms_code"
    checked = http.post(bind, data={"sms-code": "424242"}, timeout=TIMEOUT, allow_redirects=False)
    assert checked.status_code == 303
    trust = f"{base}{checked.headers['Location']}"
    return http.post(trust, data={"action": "trust"}, timeout=TIMEOUT, allow_redirects=False)


def test_a_requests_session_signs_in_and_reads_the_diary(base_url: str, world: World) -> None:
    http = requests.Session()
    assert _login(base_url, http).json()["inquire"] == "choose_one"
    done = _sms(base_url, http)
    assert done.status_code == 302
    http.get(done.headers["Location"], timeout=TIMEOUT)
    token = http.cookies["aupd_token"]
    api = requests.Session()  # the note's advice: keep the login cookie jar away from the API
    api.headers.update(mh.api(token))
    profile = api.get(f"{base_url}/api/family/web/v1/profile", timeout=TIMEOUT).json()
    child = profile["children"][0]
    assert child["first_name"] == "Артём"
    query = {"student_id": child["id"], "from": TODAY - dt.timedelta(days=7), "to": TODAY}
    marks = api.get(f"{base_url}/api/family/web/v1/marks", params=query, timeout=TIMEOUT)
    expected = world.marks_of(world.student_by_name(mh.ARTEM).id, query["from"], TODAY)
    assert [m["value"] for m in marks.json()["payload"]] == [m.shown for m in expected]
    device = http.cookies["mos_trusted_device"]
    again = requests.Session()
    again.cookies.set("mos_trusted_device", device)
    skipped = _login(base_url, again)
    assert skipped.status_code == 302 and "code=" in skipped.headers["Location"]


def test_maintenance_over_http_is_an_html_page(base_url: str) -> None:
    requests.post(f"{base_url}/__admin/faults", json={"mode": "maintenance"}, timeout=TIMEOUT)
    reply = requests.get(f"{base_url}/api/family/web/v1/profile", timeout=TIMEOUT)
    assert reply.status_code == 503 and reply.headers["Content-Type"].startswith("text/html")


def test_the_command_line_knows_mesh(world: World) -> None:
    assert cli.port_of("mesh", {}) == 9101
    assert cli.port_of("mesh", {"MESH_PORT": "9201"}) == 9201
    app = cli.make_app("mesh", world)
    assert app.test_client().get("/sps/oauth/ae", query_string=mh.AUTHORIZE).status_code == 200
