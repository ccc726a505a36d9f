"""openid-client, a certified Relying Party, signs in at idp_mock and rejects spoiled responses."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from idp_mock.browser import authorize_at_idp
from tests.interop.nodejs import FLOW_TIMEOUT
from tests.interop.nodejs import Registration
from tests.interop.nodejs import run_script

IRINA = ("+79000000001", "parent-demo-1")
IRINA_SUB = "1000000001"

# Each fault a client can detect -> (the step client.mjs was on, what its error says).
DETECTABLE = {
    "bad_signature": ("code", "JWT signature verification failed"),
    "wrong_iss": ("code", 'unexpected JWT "iss" (issuer) claim value'),
    "wrong_aud": ("code", 'unexpected JWT "aud" (audience) claim value'),
    "expired": ("code", 'unexpected JWT "exp" (expiration time) claim value'),
    "wrong_nonce": ("code", 'unexpected ID Token "nonce" claim value'),
    "unknown_kid": ("code", "no applicable keys found"),
    "alg_none": ("code", 'unexpected JWT "alg" header parameter'),
    "missing_sub": ("code", 'JWT "sub" (subject) claim missing'),
    "missing_iat": ("code", 'JWT "iat" (issued at) claim missing'),
    "wrong_azp": ("code", 'the ID token "azp" names another client'),
    "userinfo_wrong_sub": ("userinfo", 'unexpected "response" body "sub" property value'),
    "missing_iss_param": ("code", 'response parameter "iss" (issuer) missing'),
    "wrong_iss_param": ("code", 'unexpected "iss" (issuer) response parameter value'),
    "refresh_changes_sub": ("refresh", 'the refreshed ID token changed "sub"'),
    "refresh_changes_iss": ("refresh", 'unexpected JWT "iss" (issuer) claim value'),
}
# openid-client 6 leaves these to the application (a single-audience azp, OIDC Core §12.2's sub):
# client.mjs checks them itself and says so with an ApplicationCheckError.
APPLICATION_CHECKS = frozenset({"wrong_azp", "refresh_changes_sub"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """Hold client.mjs's exit code and its final JSON line."""

    exit_code: int
    output: dict[str, t.Any]

    @property
    def error(self) -> dict[str, t.Any]:
        """Return the reported error."""
        return t.cast(dict[str, t.Any], self.output.get("error") or {})


@pytest.fixture
def idp(idp_for_openid_client: Registration) -> Iterator[Registration]:
    """Yield the idp with no fault armed, and disarm whatever the test left armed."""
    faults = idp_for_openid_client.issuer + "/__dev/faults"
    requests.delete(faults, timeout=5).raise_for_status()
    yield idp_for_openid_client
    requests.delete(faults, timeout=5).raise_for_status()


def arm(idp: Registration, mode: str) -> None:
    """Arm one development fault at the idp for the next matching token or response."""
    reply = requests.post(idp.issuer + "/__dev/faults", json={"next_token": mode}, timeout=5)
    assert reply.status_code == 200, reply.text
    assert reply.json()["next_token"] == mode


def sign_in_with_openid_client(idp: Registration, tmp_path: Path) -> Outcome:
    """Run client.mjs, drive idp_mock's pages for it, and hand it the redirect back."""
    args = [
        "--issuer",
        idp.issuer,
        "--client-id",
        idp.client_id,
        "--redirect-uri",
        idp.redirect_uri,
        "--timeout",
        str(int(FLOW_TIMEOUT)),
    ]
    env = {"OIDC_CLIENT_SECRET": idp.client_secret}
    with run_script("client.mjs", args, stderr=tmp_path / "client.log", env=env) as client:
        first = client.read_json(timeout=FLOW_TIMEOUT)
        if "authorization_url" in first:
            client.send_line(authorize_at_idp(first["authorization_url"], *IRINA))
            first = client.read_json(timeout=FLOW_TIMEOUT)
        return Outcome(client.finish(timeout=FLOW_TIMEOUT), first)


def test_sign_in_validates_the_id_token_and_reads_userinfo(
    idp: Registration, tmp_path: Path
) -> None:
    outcome = sign_in_with_openid_client(idp, tmp_path)

    assert outcome.exit_code == 0, outcome.output
    result = outcome.output["result"]
    claims = result["id_token_claims"]
    assert result["issuer"] == idp.issuer
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == idp.client_id
    assert claims["sub"] == IRINA_SUB
    assert result["userinfo"]["sub"] == IRINA_SUB
    assert result["userinfo"]["given_name"] == "Ирина"
    assert result["userinfo"]["phone_number"] == IRINA[0]
    assert "offline_access" in result["scope"].split()


def test_refresh_keeps_the_identity_and_rotates_the_refresh_token(
    idp: Registration, tmp_path: Path
) -> None:
    outcome = sign_in_with_openid_client(idp, tmp_path)

    assert outcome.exit_code == 0, outcome.output
    refresh = outcome.output["result"]["refresh"]
    assert refresh is not None, "idp_mock issued no refresh token for offline_access"
    assert refresh["id_token_claims"]["sub"] == IRINA_SUB
    assert refresh["id_token_claims"]["iss"] == idp.issuer
    assert "nonce" not in refresh["id_token_claims"]
    assert refresh["new_access_token"] and refresh["rotated"]
    assert refresh["old_token_refused"] == "invalid_grant"


@pytest.mark.parametrize("mode", sorted(DETECTABLE))
def test_spoiled_response_is_rejected(idp: Registration, tmp_path: Path, mode: str) -> None:
    step, message = DETECTABLE[mode]
    arm(idp, mode)

    outcome = sign_in_with_openid_client(idp, tmp_path)

    assert outcome.exit_code == 1, outcome.output
    error = outcome.error
    assert error["step"] == step, error
    assert error["name"] == (
        "ApplicationCheckError" if mode in APPLICATION_CHECKS else "ClientError"
    ), error
    assert message in f"{error['message']} {(error.get('cause') or {}).get('message')}", error


def test_a_token_without_kid_among_several_keys_is_refused(
    idp: Registration, tmp_path: Path
) -> None:
    arm(idp, "no_kid_multiple_keys")

    outcome = sign_in_with_openid_client(idp, tmp_path)

    assert outcome.exit_code == 1, outcome.output
    assert outcome.error["step"] == "code"
    assert "multiple applicable keys found" in outcome.error["message"]
