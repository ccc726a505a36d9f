"""In Chromium: a teacher corrects one of Максим's marks at the NetSchool emulator; after
the sync the grades page shows what it was, badges the late correction and opens the
mark's history in a drawer, whose proof downloads and verifies offline."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import requests
from flask import Flask

from gateway.extensions import db
from gateway.runtime import services
from gateway.services import ledger
from regional_mock.day_client import DayClient
from regional_mock.world import demo_today
from tests.e2e.flows import link_maxim
from tests.e2e.flows import sign_in
from tests.gateway.sync.helpers import drain
from tests.gateway.sync.helpers import due_now

pytestmark = pytest.mark.browser
MAXIM = "Смирнов Максим Дмитриевич"


def test_a_corrected_mark_shows_what_it_was_and_its_history_in_a_drawer(
    page: t.Any,
    live_gateway: str,
    stack_app: Flask,
    netschool_url: str,
    netschool_day: DayClient,
    demo_world: t.Any,
    tmp_path: Path,
) -> None:
    # Any correction a day or more after the lesson counts as late here (7 days shipped).
    stack_app.config["DIARY_RETROACTIVE_DAYS"] = 0
    sign_in(page, live_gateway, "+79000000001", "parent-demo-1")
    link_maxim(page)
    page.get_by_text("Готово! Привязаны: Child1 — Смирнов Максим").wait_for()
    drain(stack_app)  # the baseline and the school year

    student = demo_world.student_by_name(MAXIM)
    today = demo_today()
    recent = [
        m
        for m in demo_world.marks_of(student.id, today - dt.timedelta(days=6), today)
        if m.date < today and m.kind == "numeric"
    ]
    corrected = max(recent, key=lambda m: (m.date, m.id))
    new_value = "5" if corrected.shown != "5" else "4"
    teacher = page.context.new_page()
    teacher.goto(f"{netschool_url}/__admin/day/page")
    teacher.select_option("select[name=student]", label=MAXIM)
    teacher.get_by_role("button", name="Выбрать").click()
    edit = teacher.locator("fieldset", has_text="Исправить оценку")
    edit.locator("select[name=mark_id]").select_option(str(corrected.id))
    edit.locator("select[name=value]").select_option(new_value)
    with teacher.expect_navigation():  # the notice is on the page the form leads to
        edit.get_by_role("button", name="Исправить").click()
    assert teacher.get_by_role("status").count() == 1

    due_now(stack_app)
    drain(stack_app)
    page.goto(live_gateway)
    page.get_by_role("link", name="Child1").click()
    changed = page.locator("tr.grade.changed")
    assert changed.count() == 1
    assert changed.get_attribute("data-date") == corrected.date.isoformat()
    assert f"было {corrected.shown}" in changed.locator("td.mark").inner_text()
    assert changed.locator(".badge.retroactive").inner_text() == "задним числом"
    step = changed.get_by_text(f"изменена: {corrected.shown} → {new_value}")
    assert not step.is_visible()  # the drawer opens on demand
    changed.get_by_text("История").click()
    step.wait_for(state="visible")

    # The drawer's proof of this mark verifies offline against the published keys.
    with stack_app.app_context():
        ledger.integrate(db.session, signer=services().signer, now=services().now())
        db.session.commit()
    with page.expect_download() as download:
        changed.get_by_role("link", name="Доказательство этой истории").click()
    bundle = tmp_path / "proof.json"
    download.value.save_as(bundle)
    keys = tmp_path / "keys.txt"
    keys.write_text(requests.get(f"{live_gateway}/log/keys", timeout=10).text)
    checked = subprocess.run(
        [sys.executable, "-m", "verifier", "bundle", str(bundle), "--keys", str(keys)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert " grades modified: " in checked.stdout and " grades observed: " in checked.stdout
