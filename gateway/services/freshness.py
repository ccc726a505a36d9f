"""How current the data on a card or a section is, in the words a parent reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.services.diary import SectionView
from gateway.services.diary import State

# The worst state decides what a card says. A relink is worst: no new data comes at all
# until the parent types the school password again, so its data's time is said too.
ORDER = (State.RELINK, State.UNAVAILABLE, State.STALE, State.REVALIDATING, State.FRESH)


@dataclass(frozen=True, slots=True, kw_only=True)
class Freshness:
    """When the data shown was fetched, and whether it is current, stale or refreshing."""

    state: State
    as_of: dt.datetime | None  # the oldest fetch among the views it sums up
    today: bool  # fetched on the viewer's today (so the time alone says when)


def freshness(views: Iterable[SectionView], now: dt.datetime) -> Freshness | None:
    """Sum up views: the worst state among them, with its oldest fetch time.

    ``now`` is the viewer's local time. None when no view has data or a state to tell.
    """
    shown = [v for v in views if v.state in ORDER]
    if not shown:
        return None
    worst = min(ORDER.index(v.state) for v in shown)
    state = ORDER[worst]
    times = [v.as_of for v in shown if v.state is state and v.as_of is not None]
    as_of = min(times, default=None)
    today = as_of is not None and as_of.astimezone(now.tzinfo).date() == now.date()
    return Freshness(state=state, as_of=as_of, today=today)
