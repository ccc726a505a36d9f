"""/logout: RP-initiated logout with id_token_hint, exact post-logout URIs and confirmation."""

from __future__ import annotations

from urllib.parse import urlencode

from flask.testing import FlaskClient

from tests.idp_mock.helpers import CLIENT_ID
from tests.idp_mock.helpers import POST_LOGOUT_URI
from tests.idp_mock.helpers import authorize_query
from tests.idp_mock.helpers import pkce_pair
from tests.idp_mock.helpers import tokens_for


def is_signed_in(client: FlaskClient) -> bool:
    """Tell whether /authorize would skip the sign-in page."""
    _, challenge = pkce_pair()
    location = client.get(authorize_query(challenge)).headers["Location"]
    return not location.startswith("/login")


def logout_url(**params: str) -> str:
    """Return a /logout URL with the parameters."""
    return "/logout?" + urlencode(params)


def test_logout_with_hint_redirects_with_state_and_ends_session(irina: FlaskClient) -> None:
    hint = tokens_for(irina)["id_token"]

    response = irina.get(
        logout_url(id_token_hint=hint, post_logout_redirect_uri=POST_LOGOUT_URI, state="bye")
    )

    assert response.status_code == 302
    assert response.headers["Location"] == POST_LOGOUT_URI + "?state=bye"
    assert not is_signed_in(irina)


def test_mismatched_post_logout_redirect_uri_is_refused(irina: FlaskClient) -> None:
    hint = tokens_for(irina)["id_token"]

    response = irina.get(
        logout_url(id_token_hint=hint, post_logout_redirect_uri=POST_LOGOUT_URI + "extra")
    )

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert is_signed_in(irina)


def test_unregistered_uri_with_client_id_and_no_hint_is_refused(irina: FlaskClient) -> None:
    response = irina.get(
        logout_url(client_id=CLIENT_ID, post_logout_redirect_uri="http://evil.test/")
    )

    assert response.status_code == 400
    assert is_signed_in(irina)


def test_logout_without_hint_asks_for_confirmation(irina: FlaskClient) -> None:
    response = irina.get(logout_url())

    assert response.status_code == 200
    assert "Выйти?" in response.get_data(as_text=True)
    assert is_signed_in(irina)


def test_confirmed_logout_without_hint_ends_the_session(irina: FlaskClient) -> None:
    response = irina.post(logout_url(), data={"decision": "logout"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/logged-out"
    assert not is_signed_in(irina)


def test_confirmed_logout_with_client_id_returns_to_a_registered_uri(irina: FlaskClient) -> None:
    url = logout_url(client_id=CLIENT_ID, post_logout_redirect_uri=POST_LOGOUT_URI, state="s")
    assert irina.get(url).status_code == 200

    response = irina.post(url, data={"decision": "logout"})

    assert response.status_code == 303
    assert response.headers["Location"] == POST_LOGOUT_URI + "?state=s"


def test_modified_hint_is_refused(irina: FlaskClient) -> None:
    header, payload, signature = tokens_for(irina)["id_token"].split(".")
    forged = ".".join([header, payload, signature[:-4] + "AAAA"])

    response = irina.get(logout_url(id_token_hint=forged, post_logout_redirect_uri=POST_LOGOUT_URI))

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert is_signed_in(irina)


def test_hint_for_another_client_id_is_refused(irina: FlaskClient) -> None:
    hint = tokens_for(irina)["id_token"]

    response = irina.get(logout_url(id_token_hint=hint, client_id="someone-else"))

    assert response.status_code == 400
    assert is_signed_in(irina)


def test_logout_with_hint_and_no_redirect_shows_logged_out(irina: FlaskClient) -> None:
    hint = tokens_for(irina)["id_token"]

    response = irina.get(logout_url(id_token_hint=hint), follow_redirects=True)

    assert "Вы вышли" in response.get_data(as_text=True)
    assert not is_signed_in(irina)
