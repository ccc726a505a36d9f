"""Progress charts as plain data: the template draws them as SVG, readable without JS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.schema import Grade
from connectors.schema import Period

WIDTH, HEIGHT, PAD = 320, 120, 14


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    """One numeric mark placed on the chart."""

    x: float
    y: float
    grade: Grade


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """A subject's numeric marks over a period, scaled to the chart's box."""

    subject: str
    points: list[Point]
    low: float
    high: float

    @property
    def polyline(self) -> str:
        """Return the points in SVG ``points`` syntax."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def summary(self) -> str:
        """Return the marks in order, for the chart's text alternative."""
        return ", ".join(p.grade.value for p in self.points)


def progress_chart(subject: str, grades: Sequence[Grade], period: Period) -> Chart | None:
    """Place a subject's numeric marks by date; None when there is nothing to draw."""
    marks = sorted((g for g in grades if g.numeric is not None), key=lambda g: (g.date, g.id))
    if not marks:
        return None
    low = min(0.0, *(g.numeric or 0 for g in marks))
    high = max(5.0, *(g.numeric or 0 for g in marks))
    days = max((period.end - period.start).days, 1)

    def place(grade: Grade) -> Point:
        x = PAD + (WIDTH - 2 * PAD) * (grade.date - period.start).days / days
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * ((grade.numeric or 0) - low) / (high - low)
        return Point(x=x, y=y, grade=grade)

    return Chart(subject=subject, points=[place(g) for g in marks], low=low, high=high)
