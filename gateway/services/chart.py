"""Progress charts as plain data: the template draws them as SVG, readable without JS.

A chart is drawn on the backend's own mark scale (1–5, 1–10 or 0–100), with the period's
dates along the bottom, each mark labelled at its point, and the subject's average.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from connectors.schema import Grade
from connectors.schema import Period
from connectors.schema import Scale

WIDTH, HEIGHT = 320, 196
# Room for the marks left of the plot, a point's label above it, and under it the dates and
# the average's legend.
LEFT, RIGHT, TOP, BOTTOM = 30, 14, 16, 46
# Each scale's lowest and highest mark and the step between its axis ticks.
SCALES = {
    Scale.FIVE_POINT: (1.0, 5.0, 1.0),
    Scale.TEN_POINT: (1.0, 10.0, 1.0),
    Scale.HUNDRED_POINT: (0.0, 100.0, 20.0),
}
# Four dates stay apart at 360 px: «28 нояб.» is about 45 px wide.
DATE_TICKS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    """One numeric mark placed on the chart."""

    x: float
    y: float
    grade: Grade


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkTick:
    """A mark of the scale on the vertical axis."""

    y: float
    value: float

    @property
    def label(self) -> str:
        """Return the mark as a school writes it (``4``, not ``4.0``)."""
        return f"{self.value:g}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DateTick:
    """A date on the horizontal axis."""

    x: float
    day: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """A subject's numeric marks over a period, scaled to the chart's box."""

    subject: str
    points: list[Point]
    low: float
    high: float
    marks: list[MarkTick]
    dates: list[DateTick]
    average: float | None
    average_y: float | None
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def polyline(self) -> str:
        """Return the points in SVG ``points`` syntax."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def summary(self) -> str:
        """Return the marks in order, for the chart's text alternative."""
        return ", ".join(p.grade.value for p in self.points)


def _range(marks: Sequence[Grade]) -> tuple[float, float, float]:
    """Return the lowest and highest mark to draw and the tick step: the backend's scale."""
    values = [g.numeric for g in marks if g.numeric is not None]
    scale = Counter(g.scale for g in marks).most_common(1)[0][0]
    if scale in SCALES:
        low, high, step = SCALES[scale]
        return min(low, *values), max(high, *values), step
    low, high = math.floor(min(values)), math.ceil(max(values))
    high = max(high, low + 1)
    return low, high, max(1.0, math.ceil((high - low) / 5))


def _date_ticks(period: Period) -> list[dt.date]:
    """Return a few evenly spread dates of the period, its first and last among them."""
    days = (period.end - period.start).days
    count = min(DATE_TICKS, days + 1)
    if count < 2:
        return [period.start]
    steps = {round(days * n / (count - 1)) for n in range(count)}
    return [period.start + dt.timedelta(days=step) for step in sorted(steps)]


def progress_chart(
    subject: str, grades: Sequence[Grade], period: Period, *, average: float | None = None
) -> Chart | None:
    """Place a subject's numeric marks by date; None when there is nothing to draw."""
    marks = sorted((g for g in grades if g.numeric is not None), key=lambda g: (g.date, g.id))
    if not marks:
        return None
    low, high, step = _range(marks)
    days = max((period.end - period.start).days, 1)

    def x(day: dt.date) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (day - period.start).days / days

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value - low) / (high - low)

    ticks = [low + step * n for n in range(int((high - low) / step) + 1)]
    return Chart(
        subject=subject,
        points=[Point(x=x(g.date), y=y(g.numeric or 0), grade=g) for g in marks],
        low=low,
        high=high,
        marks=[MarkTick(y=y(value), value=value) for value in ticks],
        dates=[DateTick(x=x(day), day=day) for day in _date_ticks(period)],
        average=average,
        average_y=y(average) if average is not None else None,
    )
