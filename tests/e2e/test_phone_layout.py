"""In Chromium at 360 px: no column of marks hides off-screen, no lesson's labels collide."""

from __future__ import annotations

import typing as t
from collections.abc import Iterator

import pytest

from tests.e2e.flows import link_maxim
from tests.e2e.flows import sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}
IRINA = ("+79000000001", "parent-demo-1")

# Elements that reach past the screen's right edge, and the page's own sideways scroll. An
# element clipped on purpose (overflow hidden: the visually hidden table headers) does not
# count; one in a box that scrolls sideways does: that is a column hidden off-screen.
OFF_SCREEN = """() => {
  const width = window.innerWidth;
  const clippedAt = (el) => {
    let right = Infinity;
    for (let up = el.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (["hidden", "clip"].includes(style.overflowX)) {
        right = Math.min(right, up.getBoundingClientRect().right);
      }
    }
    return right;
  };
  const out = [...document.querySelectorAll("main *")]
    .filter((el) => Math.min(el.getBoundingClientRect().right, clippedAt(el)) > width + 0.5)
    .map((el) => el.tagName.toLowerCase() + "." + el.className);
  return {scroll: document.documentElement.scrollWidth - width, out: out.slice(0, 5)};
}"""

# Pairs of a lesson's labels (time, subject, room, teacher, badges, note) that overlap, line
# box by line box: a label that wraps onto two lines is two boxes, not the rectangle around both.
OVERLAPS = """() => {
  const hits = [];
  const meet = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  for (const lesson of document.querySelectorAll("li.lesson")) {
    const labels = [...lesson.children].map((el) => [el, [...el.getClientRects()]]);
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const [a, boxesA] = labels[i], [b, boxesB] = labels[j];
        if (boxesA.some((ra) => boxesB.some((rb) => meet(ra, rb)))) {
          hits.push(`${a.textContent.trim()} / ${b.textContent.trim()}`);
        }
      }
    }
  }
  return hits;
}"""


@pytest.fixture
def phone(browser: t.Any) -> Iterator[t.Any]:
    """Open a Russian-language page 360 px wide."""
    context = browser.new_context(locale="ru-RU", viewport=PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _open_section(page: t.Any, title: str) -> None:
    page.locator("nav.tabs").get_by_role("link", name=title).click()
    page.get_by_role("heading", level=2, name=title).wait_for()


def test_every_field_of_a_mark_is_on_screen_and_no_lesson_label_collides(
    phone: t.Any, live_gateway: str
) -> None:
    sign_in(phone, live_gateway, *IRINA)
    link_maxim(phone)
    phone.get_by_text("Привязаны: Child1 — Смирнов Максим").wait_for()
    phone.get_by_role("link", name="Child1").first.click()
    _open_section(phone, "Оценки")

    comments = phone.locator("tr.grade td").filter(has_text="Отличный разбор у доски")
    assert comments.count() >= 1
    for cell in comments.all():
        box = cell.bounding_box()
        assert cell.is_visible() and box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert "Комментарий учителя" in cell.evaluate(
            "el => getComputedStyle(el, '::before').content"
        )
    layout = phone.evaluate(OFF_SCREEN)
    assert layout == {"scroll": 0, "out": []}, layout

    _open_section(phone, "Расписание")
    assert phone.locator("li.lesson").count() > 0
    assert phone.evaluate(OVERLAPS) == []
    layout = phone.evaluate(OFF_SCREEN)
    assert layout == {"scroll": 0, "out": []}, layout
