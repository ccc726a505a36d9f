"""The family page and each child's diary, section by section, and «Обновить сейчас»."""

from __future__ import annotations

import datetime as dt
import typing as t
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_login import login_required
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from connectors.schema import Period
from connectors.schema import Section
from gateway.diary.pages import CardView
from gateway.diary.pages import RefreshNote
from gateway.diary.pages import child_context
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.periods import local_now
from gateway.runtime import diary_service
from gateway.runtime import send_news_soon
from gateway.runtime import services
from gateway.services import access
from gateway.services import audit
from gateway.services import due
from gateway.services import periods
from gateway.services import roles
from gateway.services import sync
from gateway.services.diary import ChildDiary
from gateway.services.diary import Periods
from gateway.services.diary import Refreshed
from gateway.services.diary import State
from gateway.services.family import FAMILY_SECTIONS
from gateway.services.family import card_key
from gateway.services.family import child_today
from gateway.services.family import shared_events
from gateway.services.history import WITH_HISTORY
from gateway.services.history import SectionHistory
from gateway.services.history import section_history

if t.TYPE_CHECKING:
    from gateway.models import Grant

bp = Blueprint("diary", __name__)
CHILD_SECTIONS = [
    Section.GRADES,
    Section.SCHEDULE,
    Section.HOMEWORK,
    Section.ATTENDANCE,
    Section.EVENTS,
    Section.MESSAGES,
    Section.RATING,
]


# A family's «background paused» notice is asked again after this many seconds.
PAUSED_CHECK_SECONDS = 15
# A rendered family page is reused within this slot (its CSRF token ages no further).
PAGE_KEPT_SECONDS = 300


@bp.get("/")
def family() -> ResponseReturnValue:
    """Show every child's day and week at a glance, or how to start."""
    if not current_user.is_authenticated:
        return render_template("diary/welcome.html")
    now = local_now()
    visible = access.visible_children(db.session, current_user, now=services().now())
    only = {a.link.id: a.sections for a in visible if a.sections is not None}
    window = periods.default_periods(FAMILY_SECTIONS, now.date())
    diaries = diary_service().read([a.link for a in visible], FAMILY_SECTIONS, window, only=only)
    for shared in (a for a in visible if not a.is_owner):
        _audit_view(shared, section="family")
    db.session.commit()
    grants = {a.link.id: a.grant for a in visible}
    cards = [_card(diary, grants[diary.link.id], now) for diary in diaries]
    context = {
        "cards": cards,
        "events": shared_events(diaries, now),
        "now": now,
        "notes": _take_refresh_notes(),
        "background_paused": _background_paused([a.link.id for a in visible]),
    }
    if not cards or context["notes"] or "_flashes" in session:
        return render_template("diary/family.html", **context)  # shown once: not kept
    return services().pages.get_or_make(
        _page_key(context), lambda: render_template("diary/family.html", **context)
    )


def _page_key(context: dict[str, t.Any]) -> t.Hashable:
    """Name everything the family page is drawn from besides its cards' own keys.

    The session (its person, their name and roles, its CSRF token), the language and the
    address; the day, the events and the background notice; and a slot of a few minutes,
    so that the CSRF token a kept page carries is never older than that.
    """
    now: dt.datetime = context["now"]
    return (
        session.get("sid"),
        current_user.full_name,
        current_user.account_level,
        roles.is_operator(db.session, current_user),
        str(get_locale()),
        request.full_path,
        now.date(),
        int(now.timestamp() // PAGE_KEPT_SECONDS),
        context["background_paused"],
        tuple(card.key for card in context["cards"]),
        tuple(
            (item.event.title, item.event.starts_at, item.event.place, tuple(item.children))
            for item in context["events"]
        ),
    )


def _background_paused(link_ids: list[int]) -> bool:
    """Tell whether the sync fell behind for these children, asked once a slot per family.

    The notice is about minutes of waiting (``paused_after``), so a family's answer is kept
    for a few seconds instead of being asked again by every load of the page.
    """
    svc = services()
    now = svc.now()
    slot = int(now.timestamp() // PAUSED_CHECK_SECONDS)
    return svc.paused.get_or_make(
        (tuple(link_ids), slot),
        lambda: due.behind(db.session, link_ids, now=now, by=svc.sync.paused_after),
    )


def _card(diary: ChildDiary, grant: Grant | None, now: dt.datetime) -> CardView:
    """Render a child's card, or reuse it while nothing it shows has changed."""
    key = card_key(diary, grant, today=now.date(), locale=str(get_locale()))
    markup = services().cards.get_or_make(
        key,
        lambda: Markup(
            render_template("diary/_family_card.html", card=child_today(diary, now), grant=grant)
        ),
    )
    return CardView(link=diary.link, markup=markup, key=key)


def _seen(child_id: int) -> access.ChildAccess:
    try:
        return access.require_child(db.session, current_user, child_id, now=services().now())
    except access.ChildNotFound:
        abort(404)


def _section(seen: access.ChildAccess, args: MultiDict[str, str]) -> Section:
    """Return the asked section if the viewer may see it (404 otherwise), else the first."""
    offered = [s for s in CHILD_SECTIONS if seen.allows(s)]
    chosen = args.get("section") or offered[0].value
    if chosen not in {s.value for s in offered}:
        abort(404)
    return Section(chosen)


@bp.get("/child/<int:child_id>")
@login_required
def child(child_id: int) -> ResponseReturnValue:
    """Show one section of a child's diary for the chosen period."""
    seen = _seen(child_id)
    section, now = _section(seen, request.args), local_now()
    args = request.args
    choice = periods.pick(args.get("start"), args.get("end"), section=section, today=now.date())
    [diary] = diary_service().read([seen.link], [section], choice.period)
    if not seen.is_owner:
        _audit_view(seen, section=section.value)
    db.session.commit()
    offered = [s for s in CHILD_SECTIONS if seen.allows(s)]
    history = _history(seen, section, choice.period) if section in WITH_HISTORY else None
    page = child_context(
        seen, offered, diary.sections[section], choice, now, backend=diary.backend, history=history
    )
    note = _take_refresh_notes().get(seen.link.id)
    return render_template("diary/child.html", **page, refresh_note=note)


def _history(seen: access.ChildAccess, section: Section, period: Period) -> SectionHistory:
    """Return what the sync saw change among the child's records of the period."""
    return section_history(
        db.session,
        link_id=seen.link.id,
        section=section,
        period=period,
        retroactive_after=dt.timedelta(days=current_app.config["DIARY_RETROACTIVE_DAYS"]),
        zone=ZoneInfo(seen.link.instance.timezone),
    )


def _refresh_limit() -> str:
    return str(current_app.config["LIMIT_REFRESH"])


def _per_person() -> str:
    return f"refresh:{current_user.get_id()}"


@bp.post("/child/<int:child_id>/refresh")
@login_required
def refresh(child_id: int) -> ResponseReturnValue:
    """Refetch a child's family card or one section now, then go back to that page."""
    seen = _seen(child_id)
    sections, period, back = _refresh_target(seen, local_now().date())
    try:
        with limiter.limit(_refresh_limit, key_func=_per_person):
            outcome = diary_service().refresh_now(seen.link, sections, period, only=seen.sections)
    except RateLimitExceeded:
        too_often = _(
            "Обновлять так часто нельзя. Подождите немного:"
            " на странице — последние полученные данные."
        )
        _leave_refresh_note(seen.link.id, RefreshNote(too_often, "error"))
        return redirect(back, 303)
    changes = 0
    if outcome.fetched:
        changes = sync.record_refreshed(
            db.session,
            seen.link,
            outcome.fetched,
            cadence=services().cadence,
            now=services().now(),
        )
    db.session.commit()
    if changes:
        send_news_soon()
    _leave_refresh_note(seen.link.id, RefreshNote(*_refreshed_message(outcome)))
    return redirect(back, 303)


# Per child, not a flash at the top of the page: with three cards the parent must see
# which one the message is about.
_REFRESH_NOTES = "refresh_notes"


def _leave_refresh_note(child_id: int, note: RefreshNote) -> None:
    """Keep a refresh's outcome for the next page that shows this child."""
    notes = dict(session.get(_REFRESH_NOTES) or {})
    notes[str(child_id)] = [note.message, note.category]
    session[_REFRESH_NOTES] = notes


def _take_refresh_notes() -> dict[int, RefreshNote]:
    """Take every refresh outcome not yet shown, by child id; each is shown once."""
    kept = session.pop(_REFRESH_NOTES, None)
    if not isinstance(kept, dict):
        return {}
    return {int(child): RefreshNote(*note) for child, note in kept.items()}


def _refresh_target(seen: access.ChildAccess, today: dt.date) -> tuple[list[Section], Periods, str]:
    """Return what the refresh form asks to refetch, and the page to go back to."""
    form = request.form
    if form.get("page") == "family":
        window = periods.default_periods(FAMILY_SECTIONS, today)
        back = url_for("diary.family", _anchor=f"child-{seen.link.id}")
        return list(FAMILY_SECTIONS), window, back
    section = _section(seen, form)
    choice = periods.pick(form.get("start"), form.get("end"), section=section, today=today)
    kept: dict[str, t.Any] = (
        {"start": choice.start_text, "end": choice.end_text} if choice.chosen else {}
    )
    back = url_for("diary.child", child_id=seen.link.id, section=section.value, **kept)
    return [section], choice.period, back


def _refreshed_message(outcome: Refreshed) -> tuple[str, str]:
    """Say what a refresh did, as a message and its category."""
    time = format_datetime(outcome.as_of, "HH:mm")
    if not outcome.done:
        message = _(
            "Данные только что обновлены, в %(time)s. Обновить снова можно чуть позже.",
            time=time,
        )
        return message, "info"
    if outcome.failed is State.RELINK:
        return _("Не удалось обновить: школьная система не принимает сохранённый пароль."), "error"
    if outcome.failed is State.UNAVAILABLE:
        return _("Не удалось обновить: школьная система сейчас недоступна."), "error"
    return _("Данные обновлены в %(time)s.", time=time), "success"


def _audit_view(seen: access.ChildAccess, *, section: str) -> None:
    """Tell the parent that a trusted person looked at their child's diary."""
    assert seen.grant is not None
    audit.record(
        db.session,
        owner_id=seen.link.user_id,
        kind="viewed",
        actor_id=current_user.id,
        grant_id=seen.grant.id,
        link_id=seen.link.id,
        section=section,
        now=services().now(),
    )
