"""Sign a Flask test client in through the live idp_mock, walking its pages as a browser would."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask.testing import FlaskClient

from idp_mock.browser import authorize_at_idp


def sign_in(client: FlaskClient, login: str, password: str, *, consent: bool = True) -> None:
    """Sign a test client in through the live idp, and accept the gateway's consent."""
    start = client.get("/login")
    assert start.status_code == 302, start.text
    back = authorize_at_idp(start.headers["Location"], login, password)
    parts = urlsplit(back)
    done = client.get(f"{parts.path}?{parts.query}")
    assert done.status_code == 302, done.text
    if consent and done.headers["Location"].endswith("/consent"):
        accepted = client.post("/consent", data={"accept": "y"})
        assert accepted.status_code == 303
