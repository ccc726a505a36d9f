"""Sign in at the live idp_mock the way a browser would, for test-client sign-in flows."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests
from flask.testing import FlaskClient


class _Forms(HTMLParser):
    """Collect each form's action, method and named inputs and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append({"action": found.get("action") or "", "fields": {}})
        elif tag in ("input", "button") and self.forms and found.get("name"):
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            fields.setdefault(found["name"], found.get("value") or "")


def _form(html: str) -> tuple[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    assert parser.forms, "the identity provider showed no form"
    form = parser.forms[0]
    return str(form["action"]), dict(form["fields"])  # type: ignore[arg-type]


def authorize_at_idp(authorize_url: str, login: str, password: str, *, allow: bool = True) -> str:
    """Sign in and answer the consent page; return the redirect back to the client."""
    browser = requests.Session()
    reply = browser.get(authorize_url, allow_redirects=True, timeout=10)
    gateway_host = None
    for _ in range(6):
        action, fields = _form(reply.text)
        if "password" in fields:
            fields.update(login=login, password=password)
        elif "decision" in fields:
            fields["decision"] = "allow" if allow else "deny"
        reply = browser.post(
            urljoin(reply.url, action), data=fields, allow_redirects=False, timeout=10
        )
        while reply.status_code in (302, 303):
            location = urljoin(reply.url, reply.headers["Location"])
            if urlsplit(location).netloc != urlsplit(authorize_url).netloc:
                gateway_host = location
                break
            reply = browser.get(location, allow_redirects=False, timeout=10)
        if gateway_host:
            return gateway_host
    raise AssertionError("the identity provider never redirected back")


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
