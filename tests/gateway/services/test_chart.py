"""Progress charts: the backend's mark scale up the side, the period's dates along the bottom."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.schema import Grade
from connectors.schema import Period
from connectors.schema import Scale
from gateway.services.chart import progress_chart

MAY = Period(start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 29))


def _marks(scale: Scale, *values: tuple[int, str, float | None]) -> list[Grade]:
    return [
        Grade(
            id=f"g{n}",
            subject="Алгебра",
            value=shown,
            numeric=numeric,
            scale=scale,
            date=dt.date(2026, 5, day),
        )
        for n, (day, shown, numeric) in enumerate(values)
    ]


@pytest.mark.parametrize(
    ("scale", "ticks"),
    [
        (Scale.FIVE_POINT, ["1", "2", "3", "4", "5"]),
        (Scale.TEN_POINT, [str(n) for n in range(1, 11)]),
        (Scale.HUNDRED_POINT, ["0", "20", "40", "60", "80", "100"]),
    ],
)
def test_the_vertical_axis_is_the_backends_scale(scale: Scale, ticks: list[str]) -> None:
    chart = progress_chart("Алгебра", _marks(scale, (5, "3", 3.0), (12, "4", 4.0)), MAY)
    assert chart is not None
    assert [tick.label for tick in chart.marks] == ticks
    ys = [tick.y for tick in chart.marks]
    assert ys == sorted(ys, reverse=True)  # higher marks higher up
    assert ys[0] == chart.bottom and ys[-1] == chart.top


def test_marks_sit_at_their_value_and_date_with_their_label() -> None:
    grades = _marks(
        Scale.FIVE_POINT, (1, "5", 5.0), (15, "3", 3.0), (29, "4", 4.0), (20, "зч", None)
    )
    chart = progress_chart("Алгебра", grades, MAY, average=4.0)
    assert chart is not None
    assert [p.grade.value for p in chart.points] == ["5", "3", "4"]  # by date; «зч» has no place
    tick = {t.label: t.y for t in chart.marks}
    assert [p.y for p in chart.points] == [tick["5"], tick["3"], tick["4"]]
    assert chart.points[0].x == chart.left and chart.points[-1].x == chart.right
    assert chart.points[1].x == pytest.approx((chart.left + chart.right) / 2)
    assert chart.average_y == tick["4"]


def test_the_horizontal_axis_names_the_periods_dates() -> None:
    chart = progress_chart("Алгебра", _marks(Scale.FIVE_POINT, (5, "3", 3.0)), MAY)
    assert chart is not None
    assert [t.day.day for t in chart.dates] == [1, 10, 20, 29]
    assert chart.dates[0].x == chart.left and chart.dates[-1].x == chart.right


def test_a_chart_without_an_average_draws_no_average_line() -> None:
    chart = progress_chart("Алгебра", _marks(Scale.TEN_POINT, (5, "7", 7.0)), MAY)
    assert chart is not None and chart.average is None and chart.average_y is None


def test_nothing_to_draw_without_numeric_marks() -> None:
    assert progress_chart("Физкультура", _marks(Scale.PASS_FAIL, (5, "зч", None)), MAY) is None
