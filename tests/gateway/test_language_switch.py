"""The language switch brings the person back to the very page they were on, never elsewhere."""

from __future__ import annotations

import html
import re
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink


def _switch_link(page: str) -> str:
    found = re.search(r'<a href="([^"]*/lang/\w+[^"]*)" lang="\w+">', page)
    assert found, "the page has no language switch"
    return html.unescape(found[1])


def test_switching_language_keeps_the_path_and_the_query(
    parent: FlaskClient, fake_app: Flask
) -> None:
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        child = db.session.scalars(select(ChildLink.id).order_by(ChildLink.position)).first()
    here = f"/child/{child}?section=homework&start=2026-05-01&end=2026-05-14"
    switch = parent.get(here)
    assert switch.status_code == 200
    back = parent.get(_switch_link(switch.text))
    assert back.status_code == 302
    assert back.headers["Location"] == here
    page = parent.get(back.headers["Location"]).text
    assert '<html lang="en">' in page
    assert parent.get(_switch_link(page)).headers["Location"] == here  # and back to Russian


def test_a_page_without_a_query_comes_back_without_one(client: FlaskClient) -> None:
    switch = _switch_link(client.get("/no-such-page").text)
    assert client.get(switch).headers["Location"] == "/no-such-page"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\\\\evil.example/",
        "/\t/evil.example/",
        "\\/evil.example/",
        "javascript:alert(1)",
    ],
)
def test_the_switch_never_leads_to_another_host(client: FlaskClient, target: str) -> None:
    location = client.get(f"/lang/en?next={quote(target, safe='')}").headers["Location"]
    # A browser reads «\» as «/» and drops tabs: only a plain same-site path is safe.
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and "\t" not in location
    assert not urlsplit(location).netloc
