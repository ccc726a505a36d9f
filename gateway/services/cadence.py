"""When a child's section is next read: often in school hours, rarely at night and on days off.

The rules are read from ``config/sync.toml`` into a :class:`Cadence`; :meth:`Cadence.next_due`
is a pure function of the time, the region's time zone and how the family uses the gateway.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import tomllib
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.schema import Section


class Band(enum.StrEnum):
    """The parts of a region's week a section is read at different rates in."""

    SCHOOL = "school"  # school hours of a school day
    EVENING = "evening"
    NIGHT = "night"
    OFF = "off"  # weekends and holidays


# Minutes between reads for a section a sync file leaves out.
DEFAULT_MINUTES: Mapping[Band, int] = {
    Band.SCHOOL: 30,
    Band.EVENING: 60,
    Band.NIGHT: 360,
    Band.OFF: 240,
}


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cadence:
    """The sync's timing rules for every section."""

    minutes: Mapping[Section, Mapping[Band, int]]
    school_hours: tuple[dt.time, dt.time]
    evening_until: dt.time
    holidays: tuple[tuple[dt.date, dt.date], ...] = ()
    active_days: int = 14
    dormant_factor: float = 4.0
    spread: float = 0.1
    longest_backoff: dt.timedelta = dt.timedelta(hours=6)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, t.Any]) -> Cadence:
        """Build the rules from the ``[sync]`` table of config/sync.toml."""
        start, end = raw.get("school_hours", ("07:30", "18:00"))
        return cls(
            minutes={
                Section(name): {Band(band): int(value) for band, value in bands.items()}
                for name, bands in raw.get("sections", {}).items()
            },
            school_hours=(_time(start), _time(end)),
            evening_until=_time(raw.get("evening_until", "22:00")),
            holidays=tuple(
                (dt.date.fromisoformat(first), dt.date.fromisoformat(last))
                for first, last in raw.get("holidays", ())
            ),
            active_days=int(raw.get("active_days", 14)),
            dormant_factor=float(raw.get("dormant_factor", 4)),
            spread=float(raw.get("spread", 0.1)),
            longest_backoff=dt.timedelta(minutes=int(raw.get("longest_backoff_minutes", 360))),
        )

    @classmethod
    def from_file(cls, path: Path) -> Cadence:
        """Read the rules from a TOML file with a ``[sync]`` table."""
        with path.open("rb") as fh:
            return cls.from_mapping(tomllib.load(fh)["sync"])

    def band(self, moment: dt.datetime, timezone: str) -> Band:
        """Return which part of the region's week ``moment`` falls in."""
        local = moment.astimezone(ZoneInfo(timezone))
        day = local.date()
        if day.weekday() >= 5 or any(first <= day <= last for first, last in self.holidays):
            return Band.OFF
        opens, closes = self.school_hours
        if opens <= local.time() < closes:
            return Band.SCHOOL
        if closes <= local.time() < self.evening_until:
            return Band.EVENING
        return Band.NIGHT

    def interval(self, section: Section, moment: dt.datetime, timezone: str) -> dt.timedelta:
        """Return how long a section waits between reads at ``moment``, for an active family.

        A section or band the file does not name waits as :data:`DEFAULT_MINUTES` says.
        """
        band = self.band(moment, timezone)
        minutes = self.minutes.get(section, {}).get(band, DEFAULT_MINUTES[band])
        return dt.timedelta(minutes=minutes)

    def next_due(
        self,
        section: Section,
        *,
        after: dt.datetime,
        timezone: str,
        active: bool,
        failures: int = 0,
        key: str = "",
    ) -> dt.datetime:
        """Return when a section read at ``after`` is next due.

        A dormant family waits ``dormant_factor`` times longer; each failure since the last
        read that worked doubles the wait, up to ``longest_backoff``. ``key`` (a child and
        section) spreads the time by a fixed share of the interval, so rows that fell due
        together drift apart and stay apart.
        """
        share = _share(key)
        wait = self._wait(section, after, timezone, active=active)
        if failures:
            wait = min(wait * 2 ** min(failures, 16), max(wait, self.longest_backoff))
        due = after + wait * (1 + self.spread * share)
        boundary = self._next_boundary(after, timezone)
        if not failures and due > boundary:
            # The night's long wait ends when school opens: the 7:30 page finds it current.
            sooner = self._wait(section, boundary, timezone, active=active)
            if sooner < wait:
                due = boundary + sooner * self.spread * share
        return due

    def _wait(
        self, section: Section, moment: dt.datetime, timezone: str, *, active: bool
    ) -> dt.timedelta:
        wait = self.interval(section, moment, timezone)
        return wait if active else wait * self.dormant_factor

    def _next_boundary(self, moment: dt.datetime, timezone: str) -> dt.datetime:
        """Return the next time of the region's day at which the band may change."""
        zone = ZoneInfo(timezone)
        local = moment.astimezone(zone)
        day = local.date()
        times = [*self.school_hours, self.evening_until]
        candidates = [dt.datetime.combine(day, at, tzinfo=zone) for at in times]
        candidates.append(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone))
        return min(c for c in candidates if c > local).astimezone(dt.UTC)

    def active_since(self, now: dt.datetime) -> dt.datetime:
        """Return the earliest last visit that still makes a family active."""
        return now - dt.timedelta(days=self.active_days)


def _share(key: str) -> float:
    """Return a fixed number in [0, 1) for a key."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64
