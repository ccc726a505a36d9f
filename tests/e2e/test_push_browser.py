"""In Chromium: every page registers the service worker (the site is an installable app);
the preferences page offers push in this browser and says plainly when the browser refuses;
a push message the browser receives is shown by the worker as a notification, and a later
one about the same record replaces it rather than stacking."""

from __future__ import annotations

import typing as t

import pytest

from gateway.services import push
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser
IRINA = ("+79000000001", "parent-demo-1")
SHOWN = (
    "navigator.serviceWorker.ready.then(r => r.getNotifications())"
    ".then(ns => ns.map(n => [n.title, n.body, n.tag, n.data.url]))"
)


def test_every_page_registers_the_worker_and_the_preferences_offer_push(
    page: t.Any, live_gateway: str
) -> None:
    sign_in(page, live_gateway, *IRINA)
    page.goto(live_gateway)  # the family page, not the preferences
    worker = page.evaluate("navigator.serviceWorker.ready.then(r => [r.scope, r.active.scriptURL])")
    assert worker == [f"{live_gateway}/", f"{live_gateway}/sw.js"]
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["display"] == "standalone"

    page.get_by_role("link", name="Уведомления").click()
    status = page.get_by_role("status").filter(has_text="уведомления")
    assert status.inner_text() == "В этом браузере уведомления выключены."
    page.context.clear_permissions()  # the person says no when the browser asks
    page.get_by_role("button", name="Включить в этом браузере").click()
    page.get_by_text("Браузер запретил уведомления для этого сайта.", exact=False).wait_for()


def _registration(page: t.Any) -> tuple[t.Any, str]:
    cdp = page.context.new_cdp_session(page)
    found: list[dict[str, t.Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: found.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        if found:
            break
        page.wait_for_timeout(100)
    live = [r for r in found if not r["isDeleted"]]
    return cdp, live[0]["registrationId"]


def _wait_until_shown(page: t.Any, title: str) -> None:
    """Poll the worker's notifications (showing one is asynchronous) for one of this title."""
    for _ in range(100):
        if any(shown[0] == title for shown in page.evaluate(SHOWN)):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"no notification «{title}» shown")


def test_a_push_message_is_shown_and_a_newer_one_on_the_same_mark_replaces_it(
    page: t.Any, live_gateway: str
) -> None:
    page.context.grant_permissions(["notifications"], origin=live_gateway)
    sign_in(page, live_gateway, *IRINA)
    page.goto(f"{live_gateway}/notifications/")
    page.evaluate("navigator.serviceWorker.ready")
    cdp, registration = _registration(page)
    first = push.Message(
        title="Child1: новая оценка",
        lines=("Алгебра — новая оценка «3», 3 декабря",),
        url=f"{live_gateway}/child/1?section=grades",
        topic="mark-g1",
        urgent=False,
    )
    changed = push.Message(
        title="Child1: оценку исправили",
        lines=("Алгебра — оценку исправили: «3» → «4», 3 декабря",),
        url=f"{live_gateway}/child/1?section=grades",
        topic="mark-g1",
        urgent=False,
    )
    for message in (first, changed):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": live_gateway, "registrationId": registration, "data": message.payload()},
        )
        _wait_until_shown(page, message.title)
    assert page.evaluate(SHOWN) == [
        [
            "Child1: оценку исправили",
            "Алгебра — оценку исправили: «3» → «4», 3 декабря",
            "mark-g1",
            f"{live_gateway}/child/1?section=grades",
        ]
    ]
