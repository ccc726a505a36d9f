"""The family page and each child's diary, section by section."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from flask_login import login_required
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from connectors.schema import Period
from connectors.schema import Section
from gateway.diary.pages import child_context
from gateway.extensions import db
from gateway.models import Grant
from gateway.services import access
from gateway.services import audit
from gateway.services import periods
from gateway.services.diary import ChildDiary
from gateway.services.family import FAMILY_SECTIONS
from gateway.services.family import card_key
from gateway.services.family import child_today
from gateway.services.family import shared_events
from gateway.wiring import diary_service
from gateway.wiring import services

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


def local_now() -> dt.datetime:
    """Return the current time in the interface's time zone (school days are local)."""
    return services().now().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def requested_period(today: dt.date) -> Period:
    """Read the period picker of the marks (``?start=&end=``); the default when refused."""
    args = request.args
    return periods.pick(
        args.get("start"), args.get("end"), section=Section.GRADES, today=today
    ).period


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
    cards = [_card(diary, grants[diary.link.id], now.date()) for diary in diaries]
    return render_template(
        "diary/family.html", cards=cards, events=shared_events(diaries, now), now=now
    )


def _card(diary: ChildDiary, grant: Grant | None, today: dt.date) -> Markup:
    """Render a child's card, or reuse it while nothing it shows has changed."""
    key = card_key(diary, grant, today=today, locale=str(get_locale()))
    return services().cards.get_or_make(
        key,
        lambda: Markup(
            render_template(
                "diary/_family_card.html",
                card=child_today(diary, today),
                grant=grant,
                today=today,
            )
        ),
    )


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
    page = child_context(seen, offered, diary.sections[section], choice, now)
    return render_template("diary/child.html", **page)


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
