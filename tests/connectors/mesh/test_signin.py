"""The login.mos.ru handshake on a mocked wire: order, bodies, proof of work, SMS, trust."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import typing as t
from http.cookies import SimpleCookie

import pytest
import requests
import responses
from responses import matchers

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.errors import AccountLocked
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SecondFactorRequired
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.mesh import MeshConnector
from connectors.mesh.client import solve_proof_of_work
from tests.connectors.mesh.helpers import LOGIN
from tests.connectors.mesh.helpers import SCHOOL
from tests.connectors.mesh.helpers import fixture
from tests.connectors.mesh.helpers import make_jwt

IRINA = Credentials("irina.smirnova", "Mesh-2026-parent")
STAMP = "1:15:261013093000:5f0c2a9b7e11d4c3::c2VjcmV0LXJhbmRvbQ==:"
CALLBACK = f"{SCHOOL}/v3/auth/sudir/callback"
EXPIRES = dt.datetime(2026, 10, 14, 9, 30, tzinfo=dt.UTC)
TOKEN = make_jwt(EXPIRES)
Matcher = t.Callable[[requests.PreparedRequest], tuple[bool, str]]


def cookies_are(**expected: str) -> Matcher:
    """Match a request whose Cookie header holds exactly these cookies."""

    def match(request: requests.PreparedRequest) -> tuple[bool, str]:
        """Compare the request's cookies."""
        jar = SimpleCookie(request.headers.get("Cookie", ""))
        found = {name: morsel.value for name, morsel in jar.items()}
        return found == expected, f"cookies {sorted(found)} != {sorted(expected)}"

    return match


def empty_body(request: requests.PreparedRequest) -> tuple[bool, str]:
    """Match a POST with an empty form (the request that sends the SMS)."""
    return not request.body, "the SMS request carries no form fields"


def authorize_query(request: requests.PreparedRequest) -> tuple[bool, str]:
    """Match the authorize query of §1.1 step 1 (the state is a fresh UUID)."""
    query = dict(t.cast(t.Any, request).params)
    wanted = {"client_id": "dnevnik.mos.ru", "response_type": "code", "display": "script"}
    wanted |= {"redirect_uri": CALLBACK, "access_type": "offline"}
    ok = all(query.get(k) == v for k, v in wanted.items()) and len(query.get("state", "")) == 36
    return ok and "openid" in query.get("scope", ""), f"authorize query {query}"


def password_body(request: requests.PreparedRequest) -> tuple[bool, str]:
    """Match the headless password body with a solved proof of work."""
    body = json.loads(request.body or b"{}")
    stamp = str(body.get("proofOfWork", ""))
    digest = int.from_bytes(hashlib.sha1(stamp.encode()).digest(), "big")
    solved = stamp.startswith(STAMP) and len(stamp) > len(STAMP) and digest >> (160 - 15) == 0
    credentials = (body.get("login"), body.get("password")) == (IRINA.login, IRINA.password)
    return solved and credentials, "password body or proof of work"


def add_authorize(mock: responses.RequestsMock) -> None:
    """Register step 1: the JSON login methods and the flow cookie."""
    items = [
        {"inquire": "login_with_password", "proofOfWork": STAMP},
        {"inquire": "show_qr_code", "link": "https://login.mos.ru/qr/1", "expires": 180},
    ]
    mock.get(
        f"{LOGIN}/sps/oauth/ae",
        json={"items": items},
        headers={"Set-Cookie": "sps_session=flow-1; Path=/; HttpOnly"},
        match=[authorize_query],
    )


def add_password(mock: responses.RequestsMock, reply: dict[str, t.Any], **cookies: str) -> None:
    """Register step 3 with the cookies the request must carry."""
    url = f"{LOGIN}/sps/login/methods/headless/password"
    mock.post(url, **reply, match=[password_body, cookies_are(sps_session="flow-1", **cookies)])


def add_callback(mock: responses.RequestsMock, code: str = "code-1") -> None:
    """Register the СУДИР callback and the family profile read after it."""
    cookies = f"aupd_token={TOKEN}; Path=/"
    mock.get(
        CALLBACK,
        status=302,
        headers=[
            ("Location", "/"),
            ("Set-Cookie", cookies),
            ("Set-Cookie", "aupd_refresh_token=r-1"),
        ],
        match=[matchers.query_param_matcher({"code": code}), cookies_are()],
    )
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Mes-Subsystem": "familyweb"}
    profile = f"{SCHOOL}/api/family/web/v1/profile"
    mock.get(profile, json=fixture("profile"), match=[matchers.header_matcher(headers)])


def to_callback(state: str, code: str = "code-1") -> dict[str, t.Any]:
    """Return a 302 reply to the callback with a code and the flow's state."""
    return {"status": 302, "headers": {"Location": f"{CALLBACK}?code={code}&state={state}"}}


def start_sms(mock: responses.RequestsMock, connector: MeshConnector) -> SecondFactorRequired:
    """Run steps 1–4 for an unknown device and return the raised challenge."""
    add_authorize(mock)
    add_password(
        mock, {"json": {"inquire": "choose_one", "items": [{"inquire": "ask_to_send_sms"}]}}
    )
    sent = {"inquire": "enter_sms_code", "contact": "+7 900 ***-**-01", "ttl": 300}
    mock.post(
        f"{LOGIN}/sps/login/methods/headless/sms/bind",
        json=sent | {"remain_attempts": 3},
        match=[cookies_are(sps_session="flow-1"), empty_body],
    )
    with pytest.raises(SecondFactorRequired) as raised:
        connector.login(IRINA)
    return raised.value


def test_unknown_device_gets_the_sms_sent_and_a_serializable_challenge(
    handshake: responses.RequestsMock, connector: MeshConnector
) -> None:
    """Steps 1–4: authorize, solved proof of work, password, SMS sent; the code is asked."""
    asked = start_sms(handshake, connector)
    assert (asked.destination, asked.code_length) == ("+7 900 ***-**-01", 6)
    challenge = json.loads(json.dumps(asked.challenge))
    assert challenge["cookies"] == {"sps_session": "flow-1"}
    assert challenge["redirect_uri"] == CALLBACK
    assert challenge["remain_attempts"] == 3
    assert IRINA.password not in json.dumps(challenge)


def test_confirming_the_code_trusts_the_device_and_opens_a_session(
    handshake: responses.RequestsMock, connector: MeshConnector, http: requests.Session
) -> None:
    """Steps 5–8: code, askToTrust with action=trust, callback cookies, family profile."""
    challenge = start_sms(handshake, connector).challenge
    handshake.post(
        f"{LOGIN}/sps/login/methods/headless/sms/bind",
        status=303,
        headers={"Location": "/sps/login/ur/askToTrust"},
        match=[matchers.urlencoded_params_matcher({"sms-code": "424242"})],
    )
    trusted = to_callback(challenge["state"])
    trusted["headers"]["Set-Cookie"] = "mos_trusted_device=dev-1; Max-Age=7776000"
    handshake.post(
        f"{LOGIN}/sps/login/ur/askToTrust",
        **trusted,
        match=[
            matchers.urlencoded_params_matcher({"action": "trust"}),
            cookies_are(sps_session="flow-1"),
        ],
    )
    add_callback(handshake)
    session = connector.confirm_second_factor(challenge, " 424242 ")
    assert session.connector == "mesh"
    assert session.data["token"] == TOKEN
    assert (session.data["refresh_token"], session.data["device"]) == ("r-1", "dev-1")
    assert session.data["profile_id"] == 9120455
    assert session.data["children"]["17234001"]["person_id"].startswith("c1d2e3f4-1111")
    assert session.expires_at == EXPIRES - dt.timedelta(minutes=30)
    assert BackendSession.from_json(session.to_json()) == session
    assert len(http.cookies) == 0


def test_a_trusted_device_from_the_previous_session_skips_the_sms(
    handshake: responses.RequestsMock, connector: MeshConnector
) -> None:
    """The device cookie goes with the password; login.mos.ru redirects straight back."""
    add_authorize(handshake)
    previous = BackendSession(connector="mesh", data={"device": "dev-1", "token": "old"})

    def redirect(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        """Redirect to the callback with the state the authorize step sent."""
        query = dict(t.cast(t.Any, handshake.calls[0].request).params)
        return 302, to_callback(query["state"])["headers"], ""

    url = f"{LOGIN}/sps/login/methods/headless/password"
    handshake.add_callback(
        responses.POST,
        url,
        callback=redirect,
        match=[password_body, cookies_are(sps_session="flow-1", mos_trusted_device="dev-1")],
    )
    add_callback(handshake)
    session = connector.login(IRINA, previous=previous)
    assert session.data["device"] == "dev-1"
    assert session.data["token"] == TOKEN


def test_a_wrong_code_with_attempts_left_asks_again_with_a_fresh_challenge(
    handshake: responses.RequestsMock, connector: MeshConnector
) -> None:
    """``invalid_otp`` with ``remain_attempts`` > 0 is another SecondFactorRequired."""
    challenge = start_sms(handshake, connector).challenge
    wrong = {"errors": [{"code": "invalid_otp"}], "remain_attempts": 2}
    handshake.post(f"{LOGIN}/sps/login/methods/headless/sms/bind", status=400, json=wrong)
    with pytest.raises(SecondFactorRequired) as raised:
        connector.confirm_second_factor(challenge, "000000")
    assert raised.value.challenge["remain_attempts"] == 2
    assert raised.value.challenge["cookies"] == challenge["cookies"]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"errors": [{"code": "invalid_otp"}], "remain_attempts": 0}, InvalidCredentials),
        ({"errors": [{"code": "no_attempts"}], "remain_attempts": 0}, InvalidCredentials),
        ({"errors": [{"code": "expired"}]}, SessionExpired),
    ],
)
def test_a_code_that_cannot_be_retried_ends_the_sign_in(
    handshake: responses.RequestsMock,
    connector: MeshConnector,
    reply: dict[str, t.Any],
    error: type[ConnectorError],
) -> None:
    """No attempts left is a refusal; an expired flow must start again."""
    challenge = start_sms(handshake, connector).challenge
    handshake.post(f"{LOGIN}/sps/login/methods/headless/sms/bind", status=400, json=reply)
    with pytest.raises(error):
        connector.confirm_second_factor(challenge, "000000")


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (
            {"status": 400, "json": {"errors": [{"code": "invalid_credentials"}]}},
            InvalidCredentials,
        ),
        ({"status": 400, "json": {"errors": [{"code": "no_subject_found"}]}}, InvalidCredentials),
        ({"status": 400, "json": {"errors": [{"code": "pswd_method_temp_locked"}]}}, AccountLocked),
        (
            {"status": 400, "json": {"errors": [{"code": "invalid_proof_of_work"}]}},
            UnexpectedResponse,
        ),
        ({"status": 400, "json": {"errors": [{"code": "brand_new"}]}}, UnexpectedResponse),
        (
            {"status": 403, "body": "<html>Forbidden</html>", "content_type": "text/html"},
            BackendUnavailable,
        ),
        ({"status": 503, "body": "<html>Технические работы</html>"}, BackendUnavailable),
        ({"status": 200, "json": {"inquire": "solve_captcha"}}, UnexpectedResponse),
        ({"status": 302, "headers": {"Location": "https://evil.test/?code=x"}}, UnexpectedResponse),
        ({"status": 429, "headers": {"Retry-After": "30"}}, RateLimited),
    ],
)
def test_password_step_errors_map_to_the_taxonomy(
    handshake: responses.RequestsMock,
    connector: MeshConnector,
    reply: dict[str, t.Any],
    error: type[ConnectorError],
) -> None:
    """Note §1.9 codes and transport signals become our error classes, without personal data."""
    add_authorize(handshake)
    add_password(handshake, reply)
    with pytest.raises(error) as raised:
        connector.login(IRINA)
    assert IRINA.login not in str(raised.value) and IRINA.password not in str(raised.value)
    if error is RateLimited:
        assert t.cast(RateLimited, raised.value).retry_after == 30.0


def test_proof_of_work_reads_the_bit_count_from_the_stamp() -> None:
    """A stamp asking for 8 bits is solved with 8 leading zero bits."""
    stamp = solve_proof_of_work("1:8:261013093000:abc::cmFuZA==:")
    digest = int.from_bytes(hashlib.sha1(stamp.encode()).digest(), "big")
    assert digest >> (160 - 8) == 0


@pytest.mark.parametrize("header", ["1:40:261013093000:abc::x:", "garbage"])
def test_an_unreasonable_proof_of_work_is_an_unexpected_response(header: str) -> None:
    """A stamp we cannot read, or one asking for too much work, is not attempted."""
    with pytest.raises(UnexpectedResponse):
        solve_proof_of_work(header)
