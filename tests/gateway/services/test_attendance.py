"""Absences and late arrivals are counted apart, truancy among the absences."""

from __future__ import annotations

import datetime as dt

from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from gateway.services.attendance import attendance_report

DAY = dt.date(2026, 11, 20)


def _on(days: int, kind: AttendanceKind) -> Attendance:
    return Attendance(date=DAY + dt.timedelta(days=days), kind=kind)


def test_late_arrivals_are_not_absences_and_truancy_is_counted_among_absences() -> None:
    report = attendance_report(
        [
            _on(0, AttendanceKind.LATE),
            _on(1, AttendanceKind.ILL),
            _on(2, AttendanceKind.UNEXCUSED),
            _on(3, AttendanceKind.LATE),
            _on(4, AttendanceKind.UNEXCUSED),
        ]
    )
    assert (report.absences, report.late, report.truancy) == (3, 2, 2)
    assert [r.date.day for r in report.records] == [24, 23, 22, 21, 20]  # newest first


def test_no_records_count_nothing() -> None:
    report = attendance_report([])
    assert (report.records, report.absences, report.late, report.truancy) == ([], 0, 0, 0)
