"""How each connector instance is doing: recorded from the diary's fetches, summarized hourly.

The diary service records one :class:`BackendCall` per section fetch. The operator's health
page and the parent's link page read :func:`summary`: an instance whose error rate over the
last hour is at least ``DEGRADED_AT`` is degraded, and parents are warned before linking. So
is one the shared budget (:mod:`gateway.services.budget`) leaves alone right now: its circuit
open or half-open after repeated failures, or paused at the backend's request; the page says
when it will be tried again. :func:`degraded_instances` tells the diary pages the same.

Calls are kept for ``KEEP``, far longer than any reader looks back (the summary's hour, the
diary's revalidation window, an hour by default), except each instance's latest success, which
the health page shows however old it is. Recording prunes the older ones, at most about once
every ``PRUNE_EVERY``, so the table holds a bounded number of days without a scheduled job.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from connectors.errors import ConnectorError
from connectors.schema import Section
from gateway.models import BackendCall
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.services.budget import Budget
from gateway.services.budget import BudgetUnavailable
from gateway.services.budget import CircuitState
from gateway.services.fetching import RelinkRequired
from gateway.services.snapshots import aware

DEGRADED_AT = 0.5
WINDOW = dt.timedelta(hours=1)
KEEP = dt.timedelta(days=2)
PRUNE_EVERY = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """An instance's last hour, as the health page shows it."""

    instance: ConnectorInstance
    last_success_at: dt.datetime | None
    calls: int
    failures: int
    latency_avg_ms: int | None
    latency_max_ms: int | None
    linked_children: int
    sections: frozenset[Section]
    circuit: CircuitState = CircuitState.CLOSED
    probe_at: dt.datetime | None = None
    paused_until: dt.datetime | None = None
    # The shared budget's store did not answer: nothing is sent to the instance meanwhile.
    budget_unavailable: bool = False

    @property
    def held_back(self) -> bool:
        """Tell whether the budget leaves the instance alone now (circuit not closed, paused,
        or the budget itself out of reach)."""
        return (
            self.circuit is not CircuitState.CLOSED
            or self.paused_until is not None
            or self.budget_unavailable
        )

    @property
    def retry_at(self) -> dt.datetime | None:
        """Return when the instance is next tried: its probe or the pause's end, the later."""
        moments = [m for m in (self.probe_at, self.paused_until) if m is not None]
        return max(moments) if moments else None

    @property
    def error_rate(self) -> float | None:
        """Return the share of failed calls in the last hour; None without calls."""
        return self.failures / self.calls if self.calls else None

    @property
    def degraded(self) -> bool:
        """Tell whether half or more of the last hour's calls failed, or it is held back."""
        rate = self.error_rate
        return self.held_back or (rate is not None and rate >= DEGRADED_AT)

    @property
    def state(self) -> str:
        """Return ``disabled``, ``degraded``, ``ok`` or ``unknown`` (no calls yet)."""
        if not self.instance.enabled:
            return "disabled"
        if self.degraded:
            return "degraded"
        return "ok" if self.calls else "unknown"


def _failed(result: object) -> str | None:
    """Name the failure of one fetch; a refused login is the parent's, not the backend's."""
    if isinstance(result, RelinkRequired) or not isinstance(result, Exception):
        return None
    return type(result).__name__ if isinstance(result, ConnectorError) else "Error"


def record(
    session: Session,
    instance_of: Mapping[int, int],
    outcome: Mapping[t.Hashable, object],
    *,
    seconds: float,
    now: dt.datetime,
) -> None:
    """Record one call per fetched (child, section); ``instance_of`` maps child to instance.

    The fetches of one page run at once, so each is given the batch's wall time. A page
    served from snapshots alone records nothing and asks nothing.
    """
    if not outcome:
        return
    latency = int(seconds * 1000)
    for key, result in outcome.items():
        link_id, section = t.cast(tuple[int, Section], key)
        error = _failed(result)
        session.add(
            BackendCall(
                instance_id=instance_of[link_id],
                section=str(section),
                ok=error is None,
                latency_ms=latency,
                error=error,
                at=now,
            )
        )
    if _prune_due(session, now=now):
        prune(session, now=now)


def failing(
    session: Session, instance_ids: Sequence[int], *, since: dt.datetime
) -> dict[tuple[int, Section], dt.datetime]:
    """Return when each (instance, section) last failed, where no call has worked since.

    Only calls after ``since`` count; a section missing here has not failed since then.
    """
    if not instance_ids:
        return {}
    last_ok = func.max(case((BackendCall.ok.is_(True), BackendCall.at)))
    last_failure = func.max(case((BackendCall.ok.is_(False), BackendCall.at)))
    rows = session.execute(
        select(BackendCall.instance_id, BackendCall.section, last_ok, last_failure)
        .where(BackendCall.instance_id.in_(instance_ids), BackendCall.at >= since)
        .group_by(BackendCall.instance_id, BackendCall.section)
    )
    return {
        (instance_id, Section(section)): aware(failed)
        for instance_id, section, worked, failed in rows
        if failed is not None and (worked is None or aware(failed) > aware(worked))
    }


def summary(
    session: Session,
    instance: ConnectorInstance,
    sections: frozenset[Section],
    *,
    now: dt.datetime,
    budget: Budget | None = None,
) -> Health:
    """Summarize an instance's last hour of calls, and its circuit and pause in ``budget``."""
    since = now - WINDOW
    recent = select(BackendCall).where(
        BackendCall.instance_id == instance.id, BackendCall.at >= since
    )
    rows = list(session.scalars(recent))
    latencies = [row.latency_ms for row in rows if row.ok]
    last = session.scalar(
        select(func.max(BackendCall.at)).where(
            BackendCall.instance_id == instance.id, BackendCall.ok.is_(True)
        )
    )
    children = session.scalar(
        select(func.count(ChildLink.id)).where(ChildLink.instance_id == instance.id)
    )
    return Health(
        instance=instance,
        last_success_at=last,
        calls=len(rows),
        failures=sum(1 for row in rows if not row.ok),
        latency_avg_ms=sum(latencies) // len(latencies) if latencies else None,
        latency_max_ms=max(latencies) if latencies else None,
        linked_children=children or 0,
        sections=sections,
        **_held(budget, instance.id),
    )


def _held(budget: Budget | None, instance_id: int) -> dict[str, t.Any]:
    if budget is None:
        return {}
    try:
        return {
            "circuit": budget.state(instance_id),
            "probe_at": budget.probe_at(instance_id),
            "paused_until": budget.paused_until(instance_id),
        }
    except BudgetUnavailable:
        return {"budget_unavailable": True}


def degraded_instances(budget: Budget | None, instance_ids: Collection[int]) -> set[int]:
    """Return the instances among these that the budget leaves alone now (open or paused).

    A page labels their data «system degraded»: a refresh would fail at once.
    """
    if budget is None:
        return set()
    try:
        return {
            instance_id
            for instance_id in instance_ids
            if budget.state(instance_id) is not CircuitState.CLOSED
            or budget.paused_until(instance_id) is not None
        }
    except BudgetUnavailable:
        return set(instance_ids)  # nothing can be sent to any of them


def warning_for(
    session: Session,
    instance: ConnectorInstance,
    *,
    now: dt.datetime,
    budget: Budget | None = None,
) -> str | None:
    """Return ``disabled`` or ``degraded`` when a parent should be warned before linking."""
    state = summary(session, instance, frozenset(), now=now, budget=budget).state
    return state if state in ("disabled", "degraded") else None


def prune(session: Session, *, now: dt.datetime) -> int:
    """Delete calls older than ``KEEP`` but each instance's latest success; return how many."""
    statement = delete(BackendCall).where(_prunable(before=now - KEEP))
    # The rows written in this session are new: none of them can be among the deleted.
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def _prune_due(session: Session, *, now: dt.datetime) -> bool:
    """Tell whether a call has been prunable for ``PRUNE_EVERY`` (one indexed look)."""
    overdue = select(BackendCall.id).where(_prunable(before=now - KEEP - PRUNE_EVERY)).limit(1)
    return session.scalar(overdue) is not None


def _prunable(*, before: dt.datetime) -> ColumnElement[bool]:
    """Match calls made before ``before`` that are not their instance's latest success."""
    later = aliased(BackendCall)
    succeeded_since = exists().where(
        later.instance_id == BackendCall.instance_id,
        later.ok.is_(True),
        later.at > BackendCall.at,
    )
    return and_(BackendCall.at < before, or_(BackendCall.ok.is_(False), succeeded_since))


def worst_first(healths: Sequence[Health]) -> list[Health]:
    """Order health summaries: disabled and degraded instances first."""
    order = {"disabled": 0, "degraded": 1, "unknown": 2, "ok": 3}
    return sorted(healths, key=lambda h: (order[h.state], h.instance.key))
