"""Pages speak words, not codes: relations, regions, systems and one wording per status."""

from __future__ import annotations

import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AccessApplication
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in
from tests.gateway.test_applications import FORM
from tests.gateway.test_applications import PAVEL


@pytest.fixture
def pavel(operator_app: Flask) -> FlaskClient:
    """Павел, who applies for his daughter's login in region 63."""
    return signed_in(
        operator_app, make_person(operator_app, "pavel", PAVEL, birthdate="1984-02-17")
    )


@pytest.fixture
def maria(operator_app: Flask) -> FlaskClient:
    """Мария, the operator of region 63."""
    return signed_in(operator_app, make_operator(operator_app, "63"))


def _apply(app: Flask, pavel: FlaskClient, relation: str = "father") -> str:
    """Apply; return the operator's page of the application."""
    data = {**FORM, "relation": relation}
    assert pavel.post("/children/applications/new", data=data).status_code == 303
    with app.app_context():
        return f"/operator/applications/{db.session.scalar(select(AccessApplication.id))}"


def _status(page: str) -> str:
    """The status words a page shows: the parent's card, the queue's column, the review."""
    found = re.findall(r"<strong>([^<]+)</strong>|<td>([^<]+)</td>\s*</tr>|<p>([^<·]+) ·", page)
    return " | ".join(w.strip() for match in found for w in match if w.strip())


@pytest.mark.parametrize(
    ("relation", "russian", "english"),
    [
        ("father", "Отец", "Father"),
        ("mother", "Мать", "Mother"),
        ("guardian", "Опекун", "Guardian"),
    ],
)
def test_the_operator_reads_the_applicants_relation_as_a_word(
    operator_app: Flask,
    pavel: FlaskClient,
    maria: FlaskClient,
    relation: str,
    russian: str,
    english: str,
) -> None:
    review = _apply(operator_app, pavel, relation)
    page = maria.get(review).text
    assert re.search(rf"<dt>Кем приходится ребёнку</dt><dd>{russian}", page)
    assert f"({relation})" not in page and f">{relation}<" not in page
    maria.get("/lang/en")
    assert re.search(rf"<dt>Relation to the child</dt><dd>{english}", maria.get(review).text)


def test_the_operator_console_names_the_regions_it_covers(
    operator_app: Flask, maria: FlaskClient
) -> None:
    assert "Ваши регионы: Самарская область" in maria.get("/operator/").text
    with operator_app.app_context():
        make_operator(operator_app, "00", subject="operator-63")  # a code the table does not name
    page = maria.get("/operator/").text
    assert "Ваши регионы: регион 00, Самарская область" in page
    maria.get("/lang/en")
    assert "Your regions: region 00, Самарская область" in maria.get("/operator/").text


def test_each_application_status_has_one_wording_on_every_page(
    operator_app: Flask, pavel: FlaskClient, maria: FlaskClient
) -> None:
    path = _apply(operator_app, pavel)
    waiting = [pavel.get("/children/applications/").text, maria.get("/operator/applications").text]
    assert all("ждёт рассмотрения" in page for page in waiting), [_status(p) for p in waiting]
    review = maria.get(path).text  # opening it starts the review
    reviewing = [review, pavel.get("/children/applications/").text]
    reviewing.append(maria.get("/operator/applications").text)
    assert all("на рассмотрении" in page for page in reviewing), [_status(p) for p in reviewing]
    for page in waiting + reviewing:
        assert not re.search(r"\b[Пп]одана\b", page), _status(page)
    assert "Дата подачи" in review


@pytest.mark.parametrize(
    ("key", "russian", "english"),
    [("test-fake", "Тест-дневник", "Test Diary"), ("test-oauth", "Тест-дневник", "Test Diary")],
)
def test_a_section_the_system_does_not_send_names_the_system_not_the_region(
    parent: FlaskClient, fake_app: Flask, key: str, russian: str, english: str
) -> None:
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        child = db.session.scalar(select(ChildLink).order_by(ChildLink.position))
        child.instance = db.session.scalar(
            select(ConnectorInstance).where(ConnectorInstance.key == key)
        )
        region, child_id = child.instance.region_name, child.id
        db.session.commit()
    page = parent.get(f"/child/{child_id}?section=rating").text
    assert f"Система «{russian}» не передаёт этот раздел." in page
    assert f"Система «{region}»" not in page
    parent.get("/lang/en")
    assert (
        f"The “{english}” system does not provide this section."
        in parent.get(f"/child/{child_id}?section=rating").text
    )


def test_the_real_connectors_name_their_systems_in_both_languages() -> None:
    from connectors.registry import installed_connectors

    names: dict[str, t.Any] = {
        name: cls.display_names for name, cls in installed_connectors().items()
    }
    assert names["mesh"] == {"ru": "МЭШ", "en": "MESH"}
    assert names["dnevnik_ru"] == {"ru": "Дневник.ру", "en": "Dnevnik.ru"}
    assert names["netschool"] == {"ru": "Сетевой город", "en": "NetSchool"}
