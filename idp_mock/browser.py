"""Walk a live sign-in page and its consent page as a person with a browser would.

The benchmarks and the tests sign people in through idp_mock's own pages (and through the
Dnevnik.ru emulator's, which asks the same way): a form with ``login`` and ``password``,
then one with a ``decision``. Nothing here is used by the provider itself.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

# Sign-in and consent are two or three pages; a walk longer than this is going round in circles.
MAX_PAGES = 6
TIMEOUT = 10


class SignInStuck(AssertionError):
    """The pages showed no form, or never sent the browser back to the client.

    An ``AssertionError``, so that a test signing in this way fails rather than errors.
    """


class _Forms(HTMLParser):
    """Collect each form's action and its named inputs and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name = found.get("name")
        if tag == "form":
            self.forms.append((found.get("action") or "", {}))
        elif tag in ("input", "button") and self.forms and name:
            self.forms[-1][1].setdefault(name, found.get("value") or "")


def _form(html: str) -> tuple[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    if not parser.forms:
        raise SignInStuck("the identity provider showed no form")
    action, fields = parser.forms[0]
    return action, dict(fields)


def authorize_at_idp(authorize_url: str, login: str, password: str, *, allow: bool = True) -> str:
    """Sign in and answer the consent page; return the redirect back to the client."""
    browser = requests.Session()
    reply = browser.get(authorize_url, allow_redirects=True, timeout=TIMEOUT)
    gateway_host = None
    for _ in range(MAX_PAGES):
        action, fields = _form(reply.text)
        if "password" in fields:
            fields.update(login=login, password=password)
        elif "decision" in fields:
            fields["decision"] = "allow" if allow else "deny"
        reply = browser.post(
            urljoin(reply.url, action), data=fields, allow_redirects=False, timeout=TIMEOUT
        )
        while reply.status_code in (302, 303):
            location = urljoin(reply.url, reply.headers["Location"])
            if urlsplit(location).netloc != urlsplit(authorize_url).netloc:
                gateway_host = location
                break
            reply = browser.get(location, allow_redirects=False, timeout=TIMEOUT)
        if gateway_host:
            return gateway_host
    raise SignInStuck("the identity provider never redirected back")
