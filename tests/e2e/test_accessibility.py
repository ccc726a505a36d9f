"""In Chromium at 360 px: every page passes axe-core, fits the screen and works by keyboard."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator

import pytest

from tests.e2e.axe import violations
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
SECTIONS = ("grades", "schedule", "homework", "attendance", "events", "messages", "rating")
FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), "
    "select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"
)

# The page's width against the screen's, and the outermost elements that stick out.
WIDER_THAN_SCREEN = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= window.innerWidth) return null;
  const out = [...document.body.querySelectorAll("*")].filter(
    (el) => el.getBoundingClientRect().right > window.innerWidth
      && !(el.parentElement && el.parentElement.getBoundingClientRect().right > window.innerWidth));
  const names = out.slice(0, 5).map(
    (el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
  return `${root.scrollWidth} > ${window.innerWidth}: ${names.join(", ")}`;
}"""


class Audit:
    """Check each page it is shown; collect every problem so one run reports them all."""

    def __init__(self, page: t.Any) -> None:
        """Audit pages opened in ``page``."""
        self.page = page
        self.problems: list[str] = []
        self.seen: list[str] = []

    def check(self, label: str) -> None:
        """Run axe-core and measure horizontal overflow on the page as it is now."""
        page = self.page
        page.wait_for_load_state()
        self.seen.append(label)
        for v in violations(page):
            if v["impact"] in ("serious", "critical"):
                targets = ", ".join(v["targets"][:4])
                self.problems.append(f"{label}: [{v['impact']}] {v['id']} ({v['help']}) {targets}")
        wide = page.evaluate(WIDER_THAN_SCREEN)
        if wide:
            self.problems.append(f"{label}: scrolls sideways at 360 px, {wide}")

    def visit(self, label: str, url: str) -> None:
        """Open ``url`` and check it."""
        self.page.goto(url)
        self.check(label)

    def assert_clean(self) -> None:
        """Fail with every problem found, page by page."""
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def phone(browser: t.Any) -> Iterator[t.Any]:
    """Open a Russian-language page 360 px wide (CSP bypassed so axe-core can be injected)."""
    context = browser.new_context(locale="ru-RU", viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _open_region(page: t.Any, gateway: str, region: str) -> None:
    """Open the link page of a region (by its name, which is data and never translated)."""
    page.goto(gateway + "/children/link")
    page.get_by_role("link", name=region).click()


def _submit(page: t.Any) -> None:
    page.locator("main form button[type=submit]").last.click()


def _link_maxim(page: t.Any, gateway: str) -> None:
    """Link Максим at the NetSchool lyceum, in whatever language the page is."""
    _open_region(page, gateway, "Самарская область")
    page.fill("#school", "Лицей № 3")
    page.fill("#login", "СмирноваИС")
    page.fill("#password", "Пароль-2026")
    _submit(page)
    page.locator(".flash-success").wait_for()


def _link_three_checking(audit: Audit, gateway: str) -> None:
    """Link the three demo children, checking the region, link, code and authorize pages."""
    page = audit.page
    audit.visit("region choice", gateway + "/children/link")
    page.get_by_role("link", name="Москва").click()
    audit.check("link form (MESH)")
    page.fill("#login", "irina.smirnova")
    page.fill("#password", "Mesh-2026-parent")
    _submit(page)
    page.locator("#code").wait_for()
    audit.check("SMS code page")
    page.fill("#code", "424242")
    _submit(page)
    page.locator(".flash-success").wait_for()
    audit.check("family page after a link (flash)")
    _open_region(page, gateway, "Тверская область")
    audit.check("school sign-in page (Dnevnik.ru)")
    page.locator("main a.button").click()
    page.fill("input[name=login]", "smirnova.i.s")
    page.fill("input[name=password]", "Dnevnik-2026")
    page.locator("form button, form input[type=submit]").first.click()
    page.locator(".flash-success").wait_for()
    _open_region(page, gateway, "Самарская область")
    audit.check("link form with a school (NetSchool)")
    _link_maxim(page, gateway)


def _child_pages(audit: Audit, gateway: str) -> None:
    """Check every section of every child, and the pages a child's page links to."""
    page = audit.page
    page.goto(gateway + "/")
    children = [a.get_attribute("href") for a in page.locator(".card h2 a").all()]
    assert len(children) == 3, children
    for href in children:
        for section in SECTIONS:
            audit.visit(f"{href} {section}", f"{gateway}{href}?section={section}")
    page.goto(gateway + children[0])
    exports = [a.get_attribute("href") for a in page.locator("main .exports a").all()]
    for href in exports:
        if not href.endswith(".csv") and ".csv?" not in href:
            audit.visit(href, gateway + href)


def _walk(audit: Audit, gateway: str, lang: str) -> None:
    """Visit every page Ирина can reach, in ``lang``."""
    page = audit.page
    page.goto(f"{gateway}/lang/{lang}")
    audit.visit("welcome", gateway + "/")
    page.goto(gateway + "/lang/ru")  # sign_in follows the Russian link names
    sign_in(page, gateway, "+79000000001", "parent-demo-1")
    if lang == "en":
        page.goto(gateway + "/lang/en")
    audit.visit("family page, no children", gateway + "/")
    assert page.evaluate("document.documentElement.lang") == lang
    audit.visit("consent", gateway + "/consent")
    _link_three_checking(audit, gateway)
    audit.visit("family page, three children", gateway + "/")
    _child_pages(audit, gateway)
    audit.visit("children settings", gateway + "/children/")
    page.locator("main a[href$='/unlink']").first.click()
    audit.check("unlink confirmation")
    nav = page.locator("header nav a[href^='/trusted']")
    if nav.count():
        audit.visit("trusted people", gateway + nav.first.get_attribute("href"))
    audit.visit("transparency log", gateway + "/log/")
    audit.visit("not found", gateway + "/no-such-page")
    audit.visit("sign-in failed", gateway + "/auth/callback?state=forged&code=forged")
    audit.visit("logout", gateway + "/logout")
    _submit(page)
    page.wait_for_url(gateway + "/**")
    audit.check("after logout")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_page_passes_axe_and_fits_a_360px_screen(
    phone: t.Any, live_gateway: str, demo_world: t.Any, lang: str
) -> None:
    audit = Audit(phone)
    _walk(audit, live_gateway, lang)
    audit.assert_clean()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_account_level_page_passes_axe_and_fits_a_360px_screen(
    phone: t.Any, live_gateway: str, lang: str
) -> None:
    audit = Audit(phone)
    sign_in(phone, live_gateway, "+79000000005", "simple-demo-5")
    if lang == "en":
        phone.goto(live_gateway + "/lang/en")
    audit.visit("account level", live_gateway + "/children/link")
    assert phone.locator("form[action$='/auth/refresh-profile']").count() == 1
    audit.assert_clean()


def _tab_to(page: t.Any) -> dict[str, t.Any]:
    page.keyboard.press("Tab")
    return dict(
        page.evaluate(
            """() => {
              const el = document.activeElement;
              const style = getComputedStyle(el);
              return {key: el.dataset.a11yKey || null, tag: el.tagName, id: el.id,
                      cls: el.className, outline: style.outlineStyle,
                      width: parseFloat(style.outlineWidth) || 0,
                      shadow: style.boxShadow, focus: el.matches(":focus"),
                      visible: el.matches(":focus-visible")};
            }"""
        )
    )


def test_the_skip_link_comes_first_and_moves_focus_to_the_content(
    phone: t.Any, live_gateway: str
) -> None:
    sign_in(phone, live_gateway, "+79000000001", "parent-demo-1")
    phone.goto(live_gateway + "/")
    first = _tab_to(phone)
    assert first["cls"] == "skip", first
    assert phone.locator(".skip").is_visible()
    assert first["outline"] != "none" and first["width"] >= 2, first
    phone.keyboard.press("Enter")
    assert phone.evaluate("document.activeElement.id") == "main"
    after = _tab_to(phone)
    assert phone.evaluate("!!document.activeElement.closest('main')"), after


def test_every_control_of_a_child_page_is_reached_by_tab_with_a_visible_focus(
    phone: t.Any, live_gateway: str
) -> None:
    sign_in(phone, live_gateway, "+79000000001", "parent-demo-1")
    _link_maxim(phone, live_gateway)
    phone.locator(".card h2 a").first.click()
    phone.locator("tr.grade").first.wait_for()
    count = phone.evaluate(
        """(selector) => {
          const all = [...document.querySelectorAll(selector)].filter(
            (el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden");
          all.forEach((el, i) => { el.dataset.a11yKey = String(i); });
          return all.length;
        }""",
        FOCUSABLE,
    )
    assert count > 10
    reached: dict[str, dict[str, t.Any]] = {}
    for _ in range(count * 3):  # a date input takes one Tab per field (day, month, year)
        state = _tab_to(phone)
        if state["key"] is not None and (state["focus"] or state["key"] not in reached):
            reached[state["key"]] = state
        if len(reached) == count:
            break
    missing = sorted(set(map(str, range(count))) - set(reached), key=int)
    unmarked = phone.evaluate(
        "(keys) => keys.map((k) => document.querySelector(`[data-a11y-key='${k}']`).outerHTML)",
        missing,
    )
    assert not missing, unmarked
    invisible = [
        f"{s['tag']}#{s['id']}.{s['cls']}: outline {s['outline']} {s['width']}px"
        for s in reached.values()
        if s["outline"] == "none" or s["width"] < 2
    ]
    assert not invisible, invisible
