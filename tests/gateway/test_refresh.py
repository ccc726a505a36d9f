"""How fresh the data is, said on every card and section, and «Обновить сейчас»."""

from __future__ import annotations

import datetime as dt
import html
import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Homework
from connectors.schema import Section
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.models import ChildLink
from gateway.models import User
from gateway.runtime import services
from gateway.services import trust
from tests.gateway.clock import Clock
from tests.gateway.clock import pin_clock
from tests.gateway.conftest import build_fake_app
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeConnector
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade

MORNING = dt.datetime(2026, 5, 20, 7, 32, tzinfo=dt.UTC)  # a Wednesday, 10:32 in Moscow
GRANNY = "Смирнова Галина Ивановна"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Pin the gateway's time to a school morning."""
    return pin_clock(monkeypatch, MORNING)


def _link(client: FlaskClient, app: Flask) -> tuple[int, int]:
    reply = client.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    with app.app_context():
        anna, petr = db.session.scalars(select(ChildLink.id).order_by(ChildLink.position))
    return anna, petr


def _card(page: str, child: str) -> str:
    start = page.index(f'data-child="{child}"')
    end = page.find('data-child="', start + 1)
    return page[start : end if end > 0 else len(page)]


def _flash(page: str) -> str:
    """Return the page's last flashed message."""
    found = re.findall(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', page)
    return found[-1] if found else ""


def test_every_card_and_section_says_when_it_was_fetched(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    page = parent.get("/").text
    assert "Обновлено в 10:32" in _card(page, "Child1") and "Обновлено в 10:32" in _card(
        page, "Child2"
    )
    for section in ("grades", "schedule", "homework", "attendance", "events", "messages"):
        assert "Обновлено в 10:32" in parent.get(f"/child/{anna}?section={section}").text
    clock.advance(days=1, minutes=-8)  # the next morning the page is fetched again
    assert "Обновлено в 10:24" in parent.get(f"/child/{anna}").text


def test_data_fetched_another_day_names_the_day(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    picked = f"/child/{anna}?start=2026-05-01&end=2026-05-20"
    parent.get(picked)
    clock.advance(hours=16)  # 02:32 the next night: the snapshot is from yesterday
    school.down = True
    page = parent.get(picked).text
    assert "Данные на 20 мая 10:32: школьная система сейчас недоступна" in page


def _refresh(client: FlaskClient, child: int, **fields: str) -> t.Any:
    return client.post(f"/child/{child}/refresh", data={"page": "family", **fields})


def test_refresh_now_refetches_the_childs_sections_at_once(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    parent.get("/")
    grade(school.grades["s1"], subject="Английский", value="4", numeric=4.0, date=MORNING.date())
    clock.advance(minutes=2)  # fresh for minutes yet: a plain reload shows the old card
    assert "Английский" not in _card(parent.get("/").text, "Child1")
    before = dict(school.calls)
    reply = _refresh(parent, anna)
    assert reply.status_code == 303 and reply.location == f"/#child-{anna}"
    page = parent.get(reply.location).text
    assert _flash(page) == "Данные обновлены в 10:34."
    assert "Английский" in _card(page, "Child1") and "Обновлено в 10:34" in _card(page, "Child1")
    assert "Обновлено в 10:32" in _card(page, "Child2")  # only this child was asked again
    for section in ("grades", "schedule", "homework", "attendance", "events", "messages"):
        assert school.calls[section] == before[section] + 1, section


def test_a_refresh_right_after_a_fetch_asks_nothing_and_says_so(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    parent.get("/")
    clock.advance(seconds=20)
    before = dict(school.calls)
    page = parent.get(_refresh(parent, anna).location).text
    assert "Данные только что обновлены, в 10:32" in _flash(page)
    assert dict(school.calls) == before


def test_a_section_the_backend_lacks_does_not_defeat_the_debounce(
    parent: FlaskClient,
    fake_app: Flask,
    school: FakeSchool,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(FakeConnector, "sections", FakeConnector.sections - {Section.MESSAGES})
    anna, _ = _link(parent, fake_app)
    parent.get("/")
    clock.advance(seconds=20)
    before = dict(school.calls)
    page = parent.get(_refresh(parent, anna).location).text
    assert "Данные только что обновлены" in _flash(page) and dict(school.calls) == before


def _top_flashes(page: str) -> list[str]:
    """Return the flashed messages at the top of the page, before any card or section."""
    main = page[page.index('<main id="main"') :]
    top = main[: main.find("<h1")]
    return re.findall(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', top)


def test_the_refresh_message_appears_in_the_card_it_concerns(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    _, petr = _link(parent, fake_app)
    parent.get("/")
    clock.advance(minutes=2)
    reply = _refresh(parent, petr)
    assert reply.location == f"/#child-{petr}"
    page = parent.get(reply.location).text
    assert "Данные обновлены в 10:34." in _card(page, "Child2")
    assert "Данные обновлены" not in _card(page, "Child1")
    assert _top_flashes(page) == []
    assert "Данные обновлены" not in parent.get("/").text  # said once


def test_a_failed_refresh_says_so_in_its_card(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    parent.get("/")
    clock.advance(minutes=2)
    school.down = True
    page = parent.get(_refresh(parent, anna).location).text
    failed = "Не удалось обновить: школьная система сейчас недоступна."
    assert failed in _card(page, "Child1") and failed not in _card(page, "Child2")
    assert 'role="alert">' + failed in _card(page, "Child1")


def test_a_section_refresh_says_its_result_beside_the_section(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, petr = _link(parent, fake_app)
    parent.get(f"/child/{anna}?section=homework")
    clock.advance(minutes=2)
    reply = parent.post(f"/child/{anna}/refresh", data={"page": "child", "section": "homework"})
    assert reply.location == f"/child/{anna}?section=homework"
    page = parent.get(reply.location).text
    freshness = page[page.index('<div class="freshness">') :]
    assert "Данные обновлены в 10:34." in freshness[: freshness.index("</div>")]
    assert _top_flashes(page) == []
    _refresh(parent, petr)  # another child's result waits for that child's page
    assert "Данные обновлены" not in parent.get(f"/child/{anna}").text


def test_a_refresh_that_finds_the_password_changed_says_so_on_the_section(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    parent.get(f"/child/{anna}?section=grades")
    clock.advance(minutes=2)
    school.expired_tokens.add("t1")
    school.accounts["parent"] = ("changed", school.accounts["parent"][1])
    reply = parent.post(f"/child/{anna}/refresh", data={"page": "child", "section": "grades"})
    page = parent.get(reply.location).text
    freshness = page[page.index('<div class="freshness">') :]
    said = "Не удалось обновить: школьная система не принимает сохранённый пароль."
    assert said in freshness[: freshness.index("</div>")] and _top_flashes(page) == []


def test_refreshing_a_section_keeps_its_period_and_goes_back_to_it(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    picked = "start=2026-04-01&end=2026-04-30"
    grade(school.grades["s1"], value="3", numeric=3.0, date=dt.date(2026, 4, 10))
    assert 'class="grade"' not in parent.get(f"/child/{anna}?section=homework&{picked}").text
    assert parent.get(f"/child/{anna}?section=grades&{picked}").text.count('class="grade"') == 1
    grade(school.grades["s1"], value="5", numeric=5.0, date=dt.date(2026, 4, 11))
    clock.advance(minutes=5)
    calls = school.calls["grades"]
    reply = parent.post(
        f"/child/{anna}/refresh",
        data={"page": "child", "section": "grades", "start": "2026-04-01", "end": "2026-04-30"},
    )
    assert reply.location == f"/child/{anna}?section=grades&{picked}"
    page = parent.get(reply.location).text
    assert page.count('class="grade"') == 2 and school.calls["grades"] == calls + 1
    assert school.calls["homework"] == 1  # the other section was not asked again


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"section": "nonsense"}, 404),
        ({"section": "grades\x00"}, 404),
        ({"section": "grades", "start": "garbage", "end": "2026-04-30"}, 303),
        ({"section": "grades", "start": "2026-04-30", "end": "2026-04-01"}, 303),
        ({"section": "grades", "start": "2026-04-01\x00", "end": "\x07"}, 303),
        ({"page": "nonsense"}, 303),
        ({}, 303),
    ],
)
def test_tampered_refresh_fields_never_fail_and_fall_back_to_the_default_period(
    parent: FlaskClient,
    fake_app: Flask,
    school: FakeSchool,
    clock: Clock,
    fields: dict,
    status: int,
) -> None:
    anna, _ = _link(parent, fake_app)
    reply = parent.post(f"/child/{anna}/refresh", data=fields)
    assert reply.status_code == status
    if status == 303:  # back to the child's page, on its own default period
        assert reply.location.startswith(f"/child/{anna}?section=")
        assert "start=" not in reply.location
        assert parent.get(reply.location).status_code == 200


def test_the_refresh_form_needs_its_csrf_token(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    fake_app.config["WTF_CSRF_ENABLED"] = True
    page = parent.get("/").text
    clock.advance(minutes=5)
    calls = school.calls["grades"]
    assert _refresh(parent, anna).status_code == 400
    assert school.calls["grades"] == calls
    token = re.search(r'name="csrf_token" value="([^"]+)"', _card(page, "Child1"))
    assert token is not None
    assert _refresh(parent, anna, csrf_token=token[1]).status_code == 303
    assert school.calls["grades"] == calls + 1


def test_a_refresh_of_a_child_one_may_not_see_is_not_found(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    stranger = signed_in(fake_app, make_parent(fake_app, subject="p2", name="Петров Олег"))
    assert _refresh(stranger, anna).status_code == 404
    assert stranger.post(f"/child/{anna}/refresh", data={"section": "grades"}).status_code == 404
    assert school.calls["grades"] == 0


@pytest.fixture
def limited(make_app: t.Callable[..., Flask], school: FakeSchool) -> t.Iterator[Flask]:
    """A fake-connector app that lets each person refresh twice a minute."""
    app = build_fake_app(make_app, RATELIMIT_ENABLED=True, LIMIT_REFRESH="2 per minute")
    limiter.reset()
    yield app
    limiter.reset()


def test_refreshing_too_often_is_limited_per_person_and_keeps_the_page(
    limited: Flask, school: FakeSchool, clock: Clock
) -> None:
    parent = signed_in(limited, make_parent(limited))
    anna, _ = _link(parent, limited)
    for _ in range(2):
        clock.advance(minutes=2)
        assert "Данные обновлены" in _flash(parent.get(_refresh(parent, anna).location).text)
    clock.advance(minutes=2)
    calls = school.calls["grades"]
    reply = _refresh(parent, anna)
    assert reply.status_code == 303 and reply.location == f"/#child-{anna}"
    page = parent.get(reply.location)
    assert page.status_code == 200 and "Обновлять так часто нельзя" in _flash(page.text)
    assert 'data-child="Child1"' in page.text  # the page itself, with its cards
    assert school.calls["grades"] == calls
    other = signed_in(limited, make_parent(limited, subject="p2", name="Петров Олег"))
    school.accounts["other"] = ("pw", school.accounts["parent"][1])
    other.post("/children/link/test-fake", data={"login": "other", "password": "pw"})
    with limited.app_context():
        own = db.session.scalar(select(ChildLink.id).order_by(ChildLink.id.desc()))
    clock.advance(minutes=2)
    assert "Данные обновлены" in _flash(other.get(_refresh(other, own).location).text)


def _share(app: Flask, child: int, sections: set[Section], now: dt.datetime) -> FlaskClient:
    """Grant the grandmother these sections of the child; return her signed-in client."""
    granny_id = make_parent(app, "granny", GRANNY, phone="+79000000003")
    with app.app_context():
        link = db.session.get(ChildLink, child)
        owner = db.session.get(User, link.user_id)  # type: ignore[union-attr]
        invitation = trust.Invitation(
            name=GRANNY, phone="+79000000003", email=None, scopes={child: sections}, ends_on=None
        )
        grant, _ = trust.invite(
            db.session,
            owner,
            invitation,
            now=now,
            accept_url="/{token}",
            vault=services().vault,
        )
        granny = db.session.get(User, granny_id)
        trust.accept(db.session, grant, granny, now=now, delay=dt.timedelta())  # type: ignore[arg-type]
        db.session.commit()
    return signed_in(app, granny_id)


def test_a_trusted_person_refreshes_only_the_sections_granted(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    granny = _share(fake_app, anna, {Section.SCHEDULE, Section.HOMEWORK}, MORNING)
    granny.get("/")
    school.records[Section.HOMEWORK]["s1"].append(
        Homework(id="h9", subject="Чтение", text="Выучить стих", due_on=dt.date(2026, 5, 22))
    )
    clock.advance(minutes=3)
    before = dict(school.calls)
    page = granny.get(_refresh(granny, anna).location).text
    assert "Данные обновлены в 10:35" in _flash(page) and "Выучить стих" in page
    assert school.calls["homework"] == before["homework"] + 1
    assert school.calls["schedule"] == before["schedule"] + 1
    for section in ("grades", "attendance", "events", "messages"):
        assert school.calls[section] == before.get(section, 0), section
    assert granny.post(f"/child/{anna}/refresh", data={"section": "grades"}).status_code == 404


def test_a_refresh_that_fails_says_so_and_keeps_the_last_data(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    grade(school.grades["s1"], subject="Английский", value="4", numeric=4.0, date=MORNING.date())
    parent.get("/")
    clock.advance(minutes=2)
    school.down = True
    page = parent.get(_refresh(parent, anna).location).text
    assert _flash(page) == "Не удалось обновить: школьная система сейчас недоступна."
    down = "Данные на 10:32: школьная система сейчас недоступна"
    card = html.unescape(_card(page, "Child1"))
    assert down in card and "Английский" in card  # what it had, and when
    assert "Обновлено в" not in card
    # Reloading later says so too, on both pages, though the data is only minutes old.
    assert down in html.unescape(_card(parent.get("/").text, "Child1"))
    assert down in html.unescape(parent.get(f"/child/{anna}?section=grades").text)


def test_a_refresh_that_works_after_a_failed_one_says_updated_again(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    parent.get("/")
    clock.advance(minutes=2)
    school.down = True
    _refresh(parent, anna)
    clock.advance(minutes=2)  # past the debounce of the failed attempt
    school.down = False
    page = html.unescape(parent.get(_refresh(parent, anna).location).text)
    card = _card(page, "Child1")
    assert "Обновлено в 10:36" in card and "недоступна" not in card


def test_a_refresh_the_school_refuses_asks_for_the_password(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    parent.get("/")
    clock.advance(minutes=2)
    school.expired_tokens.add("t1")
    school.accounts["parent"] = ("changed", school.accounts["parent"][1])
    page = parent.get(_refresh(parent, anna).location).text
    assert "не принимает сохранённый пароль" in _flash(page)
    assert "Привязать заново" in _card(page, "Child1")


def test_data_kept_after_the_school_refused_the_password_says_its_time_to_everyone(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    anna, _ = _link(parent, fake_app)
    granny = _share(fake_app, anna, {Section.SCHEDULE, Section.HOMEWORK}, MORNING)
    parent.get("/")  # fetched at 10:32 Moscow time
    clock.advance(minutes=2)
    school.expired_tokens.add("t1")
    school.accounts["parent"] = ("changed", school.accounts["parent"][1])
    parent.get(_refresh(parent, anna).location)
    kept = "Данные на 10:32: новых не будет, пока пароль от школьной системы не введут заново."
    family = html.unescape(_card(parent.get("/").text, "Child1"))
    child = html.unescape(parent.get(f"/child/{anna}?section=homework").text)
    assert kept in family and "Привязать заново" in family
    assert kept in child and "Ввести логин и пароль заново" in child
    for page in (
        _card(granny.get("/").text, "Child1"),
        granny.get(f"/child/{anna}?section=homework").text,
    ):
        page = html.unescape(page)
        assert kept in page and "когда он привяжет ребёнка заново" in page
        assert "Привязать заново" not in page and "Ввести логин и пароль заново" not in page
