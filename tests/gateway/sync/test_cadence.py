"""The sync's timing: often in school hours, rarely at night and on days off, in the region's
own time zone; dormant families less often; failures back off."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.schema import Section
from gateway.services.cadence import Band
from gateway.services.cadence import Cadence
from gateway.settings import CONFIG_DIR

MOSCOW = "Europe/Moscow"
SAMARA = "Europe/Samara"  # an hour ahead of Moscow


@pytest.fixture
def cadence() -> Cadence:
    return Cadence.from_file(CONFIG_DIR / "sync.toml")


def utc(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}+00:00")


@pytest.mark.parametrize(
    ("moment", "zone", "band"),
    [
        (utc("2026-12-03", "06:00"), MOSCOW, Band.SCHOOL),  # Thursday 09:00 in Moscow
        (utc("2026-12-03", "04:00"), MOSCOW, Band.NIGHT),  # 07:00, before school
        (utc("2026-12-03", "04:00"), SAMARA, Band.SCHOOL),  # 08:00 in Samara
        (utc("2026-12-03", "16:00"), MOSCOW, Band.EVENING),  # 19:00
        (utc("2026-12-03", "20:00"), MOSCOW, Band.NIGHT),  # 23:00
        (utc("2026-12-05", "09:00"), MOSCOW, Band.OFF),  # Saturday noon
        (utc("2027-01-05", "09:00"), MOSCOW, Band.OFF),  # a Tuesday of the winter holidays
        (utc("2026-12-30", "09:00"), MOSCOW, Band.SCHOOL),  # the day before they start
    ],
)
def test_the_band_is_read_in_the_regions_own_time(
    cadence: Cadence, moment: dt.datetime, zone: str, band: Band
) -> None:
    assert cadence.band(moment, zone) is band


def test_school_hours_are_read_most_often_and_nights_least(cadence: Cadence) -> None:
    school = cadence.interval(Section.GRADES, utc("2026-12-03", "08:00"), MOSCOW)
    evening = cadence.interval(Section.GRADES, utc("2026-12-03", "16:00"), MOSCOW)
    night = cadence.interval(Section.GRADES, utc("2026-12-03", "21:00"), MOSCOW)
    assert school < evening < night
    assert school == dt.timedelta(minutes=20)


def test_each_section_has_its_own_rates(cadence: Cadence) -> None:
    moment = utc("2026-12-03", "08:00")
    assert cadence.interval(Section.MESSAGES, moment, MOSCOW) < cadence.interval(
        Section.RATING, moment, MOSCOW
    )


def test_a_dormant_family_is_read_less_often(cadence: Cadence) -> None:
    after = utc("2026-12-03", "08:00")
    active = cadence.next_due(Section.GRADES, after=after, timezone=MOSCOW, active=True)
    dormant = cadence.next_due(Section.GRADES, after=after, timezone=MOSCOW, active=False)
    assert dormant - after == (active - after) * cadence.dormant_factor


def test_failures_double_the_wait_up_to_the_longest_backoff(cadence: Cadence) -> None:
    after = utc("2026-12-03", "08:00")

    def wait(failures: int) -> dt.timedelta:
        due = cadence.next_due(
            Section.GRADES, after=after, timezone=MOSCOW, active=True, failures=failures
        )
        return due - after

    assert wait(1) == 2 * wait(0)
    assert wait(2) == 4 * wait(0)
    longest = cadence.longest_backoff
    assert longest <= wait(30) == wait(40) < longest * (1 + cadence.spread)


def test_the_spread_is_fixed_per_key_and_within_its_share(cadence: Cadence) -> None:
    after = utc("2026-12-03", "08:00")
    base = cadence.interval(Section.GRADES, after, MOSCOW)
    dues = {
        key: cadence.next_due(Section.GRADES, after=after, timezone=MOSCOW, active=True, key=key)
        for key in (f"{n}:grades" for n in range(50))
    }
    assert len(set(dues.values())) > 40  # children linked together drift apart
    assert all(base <= due - after < base * (1 + cadence.spread) for due in dues.values())
    again = cadence.next_due(
        Section.GRADES, after=after, timezone=MOSCOW, active=True, key="7:grades"
    )
    assert again == dues["7:grades"]


def test_the_nights_long_wait_ends_when_school_opens(cadence: Cadence) -> None:
    four_am = utc("2026-12-03", "01:00")  # 04:00 in Moscow, a school day
    opens = utc("2026-12-03", "04:30")  # 07:30 in Moscow
    due = cadence.next_due(Section.GRADES, after=four_am, timezone=MOSCOW, active=True, key="1")
    assert opens <= due < opens + dt.timedelta(minutes=20) * cadence.spread
    # The evening's end brings a longer interval: nothing is cut short there.
    evening = utc("2026-12-03", "18:30")  # 21:30
    late = cadence.next_due(Section.GRADES, after=evening, timezone=MOSCOW, active=True)
    assert late - evening >= dt.timedelta(minutes=60)
    # A Saturday's reads do not wait for a Monday morning either.
    saturday = utc("2026-12-05", "09:00")
    weekend = cadence.next_due(Section.GRADES, after=saturday, timezone=MOSCOW, active=True)
    assert weekend - saturday >= dt.timedelta(minutes=240)


def test_a_sync_file_that_leaves_things_out_keeps_the_defaults() -> None:
    sparse = Cadence.from_mapping({"sections": {"grades": {"school": 5}}})
    school_hours = utc("2026-12-03", "08:00")
    assert sparse.interval(Section.GRADES, school_hours, MOSCOW) == dt.timedelta(minutes=5)
    assert sparse.interval(Section.GRADES, utc("2026-12-03", "21:00"), MOSCOW) == dt.timedelta(
        minutes=360
    )
    assert sparse.interval(Section.MESSAGES, school_hours, MOSCOW) == dt.timedelta(minutes=30)
