"""What the diary's templates are given: a child page's parts, a family card's markup."""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup

from connectors.schema import Section
from gateway.services import periods
from gateway.services.access import ChildAccess
from gateway.services.attendance import attendance_report
from gateway.services.chart import progress_chart
from gateway.services.diary import Backend
from gateway.services.diary import SectionView
from gateway.services.freshness import freshness
from gateway.services.grades import grades_report
from gateway.services.history import SectionHistory

if t.TYPE_CHECKING:
    from gateway.models import ChildLink


@dataclass(frozen=True, slots=True)
class RefreshNote:
    """What «Обновить сейчас» did, shown once beside the card or section it refreshed."""

    message: str
    category: str


@dataclass(frozen=True, slots=True)
class CardView:
    """A child's card as the family page places it: the child, and the rendered card."""

    link: ChildLink
    markup: Markup
    key: t.Hashable  # everything the card is drawn from (family.card_key)


def refusal_message(choice: periods.PeriodChoice) -> str | None:
    """Explain why the picked period is not the one shown (None when it is)."""
    messages = {
        periods.Refusal.INCOMPLETE: lambda: _("Укажите обе даты: начало и конец периода."),
        periods.Refusal.UNREADABLE: lambda: _(
            "Не получилось прочитать дату «%(text)s». Выберите её в календаре"
            " или введите в виде ДД.ММ.ГГГГ.",
            text=choice.unreadable,
        ),
        periods.Refusal.INVERTED: lambda: _("Конец периода раньше его начала."),
        periods.Refusal.TOO_LONG: lambda: _(
            "Период длиннее учебного года. Выберите не больше %(days)s дней.",
            days=periods.LONGEST_DAYS,
        ),
    }
    return messages[choice.refusal]() if choice.refusal else None


def child_context(
    seen: ChildAccess,
    offered: list[Section],
    view: SectionView,
    choice: periods.PeriodChoice,
    now: dt.datetime,
    *,
    backend: Backend | None,
    history: SectionHistory | None = None,
) -> dict[str, t.Any]:
    """Return what the child page's template shows for one section and period."""
    section, period = view.section, choice.period
    history = history or SectionHistory()
    report = (
        grades_report(view.records, period, removed=history.removed)
        if section is Section.GRADES
        else None
    )
    charts = (
        [
            c
            for s in report.subjects
            if (c := progress_chart(s.subject, s.grades, period, average=s.average))
        ]
        if report
        else []
    )
    # Tabs and exports keep a period the parent picked; otherwise each opens on its own.
    kept = {"start": choice.start_text, "end": choice.end_text} if choice.chosen else {}
    year = periods.school_year(section, now.date())
    return {
        "child": seen.link,
        "access": seen,
        "section": section,
        "sections": offered,
        "view": view,
        "backend": backend,
        "period": period,
        "choice": choice,
        "refusal": refusal_message(choice),
        "kept": kept,
        "school_year": {"start": year.start.isoformat(), "end": year.end.isoformat()},
        "refresh_target": {"page": "child", "section": section.value, **kept},
        "fresh": freshness([view], now),
        "report": report,
        "history": history,
        "attendance": (attendance_report(view.records) if section is Section.ATTENDANCE else None),
        "charts": charts,
        "today": now.date(),
    }
