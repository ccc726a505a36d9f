"""Which dates each section shows: its default period, and the period a parent picked.

Schedule, homework and events look ahead, so they open on the coming two weeks; marks,
attendance, messages and ratings look back over the last school month. The family page
reads the same default periods, so its snapshots are the ones the child pages open on.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from connectors.schema import Period
from connectors.schema import Section

SCHOOL_MONTH_DAYS = 30
COMING_DAYS = 14
# Between two whole reads a day, the sync asks this many days back and ahead of today.
RECENT_DAYS = 7
# A school year from 1 September is at most 366 days; nothing longer is asked of a backend.
LONGEST_DAYS = 366
FORWARD = frozenset({Section.SCHEDULE, Section.HOMEWORK, Section.EVENTS})
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def last_school_month(today: dt.date) -> Period:
    """Return the thirty days up to today."""
    return Period(start=today - dt.timedelta(days=SCHOOL_MONTH_DAYS - 1), end=today)


def coming_weeks(today: dt.date) -> Period:
    """Return today and the thirteen days after it."""
    return Period(start=today, end=today + dt.timedelta(days=COMING_DAYS - 1))


def recent_window(today: dt.date) -> Period:
    """Return the days a sync asks between two whole reads: what can have changed since.

    Marks and absences are given for the last week's lessons (Friday's often on Monday);
    homework is set for the next lessons, and the coming week's timetable and meetings are
    what changes. Further ahead and further back is read whole once a day. It is one window
    for every section, so that a system serving several sections from one answer is asked
    once.
    """
    reach = dt.timedelta(days=RECENT_DAYS - 1)
    return Period(start=today - reach, end=today + reach)


def default_period(section: Section, today: dt.date) -> Period:
    """Return the period a section opens on."""
    return coming_weeks(today) if section in FORWARD else last_school_month(today)


def default_periods(sections: Iterable[Section], today: dt.date) -> dict[Section, Period]:
    """Return each section's default period."""
    return {section: default_period(section, today) for section in sections}


def school_year_start(today: dt.date) -> dt.date:
    """Return 1 September of the school year ``today`` belongs to."""
    return dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def school_year(section: Section, today: dt.date) -> Period:
    """Return the school year so far, up to the section's default end (ahead for plans).

    In late August the plans' two weeks ahead reach into the next school year; the year
    still ends on 31 August, so the range stays one the picker accepts.
    """
    start = school_year_start(today)
    last_day = dt.date(start.year + 1, 8, 31)
    return Period(start=start, end=min(default_period(section, today).end, last_day))


class Refusal(enum.StrEnum):
    """Why a picked period was not shown."""

    INCOMPLETE = "incomplete"  # one of the two dates is missing
    UNREADABLE = "unreadable"  # not a date
    INVERTED = "inverted"  # ends before it starts
    TOO_LONG = "too_long"  # longer than a school year


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodChoice:
    """The period to show, what the parent typed, and why it was refused, if it was."""

    period: Period
    start_text: str
    end_text: str
    chosen: bool  # the parent picked this period (links keep it) rather than the default
    refusal: Refusal | None = None
    unreadable: str | None = None  # the first text that is not a date


def _date(text: str) -> dt.date | None:
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def pick(start: str | None, end: str | None, *, section: Section, today: dt.date) -> PeriodChoice:
    """Read the picker's two dates; keep what was typed and say why a range is refused.

    Both empty means the section's default period. Dates are ISO (what a date input
    sends) or ``ДД.ММ.ГГГГ`` (what people type where there is no date picker).
    """
    start_text, end_text = (start or "").strip(), (end or "").strip()
    default = default_period(section, today)
    if not start_text and not end_text:
        return PeriodChoice(
            period=default,
            start_text=default.start.isoformat(),
            end_text=default.end.isoformat(),
            chosen=False,
        )
    first, last = _date(start_text), _date(end_text)
    # A readable date is given back as ISO, so that the date input can show it again.
    shown_start = first.isoformat() if first else start_text
    shown_end = last.isoformat() if last else end_text
    refusal, unreadable = _refusal(start_text, end_text, first, last)
    if refusal is not None:
        return PeriodChoice(
            period=default,
            start_text=shown_start,
            end_text=shown_end,
            chosen=False,
            refusal=refusal,
            unreadable=unreadable,
        )
    assert first is not None and last is not None
    return PeriodChoice(
        period=Period(start=first, end=last),
        start_text=shown_start,
        end_text=shown_end,
        chosen=True,
    )


def _refusal(
    start_text: str, end_text: str, first: dt.date | None, last: dt.date | None
) -> tuple[Refusal | None, str | None]:
    if not start_text or not end_text:
        return Refusal.INCOMPLETE, None
    if first is None or last is None:
        return Refusal.UNREADABLE, start_text if first is None else end_text
    if last < first:
        return Refusal.INVERTED, None
    if (last - first).days + 1 > LONGEST_DAYS:
        return Refusal.TOO_LONG, None
    return None, None
