"""A printable table of marks, a CSV of them, a child's secret calendar feed, and proofs."""

from __future__ import annotations

import json
import typing as t
from zoneinfo import ZoneInfo

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import make_response
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from connectors.schema import Period
from connectors.schema import Section
from gateway.exports.forms import IssueFeedForm
from gateway.exports.forms import ProofForm
from gateway.extensions import db
from gateway.extensions import limiter
from gateway.periods import local_now
from gateway.periods import requested_period
from gateway.runtime import diary_service
from gateway.runtime import services
from gateway.services import access
from gateway.services import exports
from gateway.services import proofs
from gateway.services.diary import SectionView
from gateway.services.diary import backend_of
from gateway.services.grades import grades_report
from gateway.templating import section_title

if t.TYPE_CHECKING:
    from gateway.models import ChildLink

bp = Blueprint("exports", __name__)
# Calendar applications poll every few minutes to hours; this only stops hammering, and
# fresh snapshots already keep repeated polls away from the school systems.
FEED_LIMIT = "60 per minute"
FEED_RETRY_SECONDS = "300"


def _own_child(child_id: int) -> ChildLink:
    """Return a child the signed-in parent linked; 404 for anyone else, trusted persons too.

    Exports take the diary out of the gateway, where a trusted person's viewing is no
    longer audited, and a feed is a standing grant of its own: only the parent decides.
    """
    try:
        return access.require_own_child(db.session, current_user, child_id)
    except access.ChildNotFound:
        abort(404)


def _grades(link: ChildLink) -> tuple[SectionView, Period]:
    """Read the marks of the requested period (the child page's picker and cache)."""
    period = requested_period(local_now().date())
    [diary] = diary_service().read([link], [Section.GRADES], period)
    db.session.commit()
    return diary.sections[Section.GRADES], period


@bp.get("/child/<int:child_id>/grades/print")
@login_required
def grades_print(child_id: int) -> ResponseReturnValue:
    """Show the period's marks as one table, by subject, laid out for paper."""
    link = _own_child(child_id)
    view, period = _grades(link)
    report = grades_report(view.records, period)
    return render_template(
        "exports/grades_print.html", child=link, view=view, report=report, now=local_now()
    )


@bp.get("/child/<int:child_id>/grades.csv")
@login_required
def grades_csv(child_id: int) -> ResponseReturnValue:
    """Download the period's marks as a CSV that Russian Excel opens as is."""
    link = _own_child(child_id)
    view, period = _grades(link)
    response = Response(exports.grades_csv(view.records), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = exports.grades_disposition(link, period)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/child/<int:child_id>/calendar", methods=["GET", "POST"])
@login_required
def calendar(child_id: int) -> ResponseReturnValue:
    """Show the feed's state; on POST create or rotate it and show the new URL once."""
    link = _own_child(child_id)
    form = IssueFeedForm()
    url = None
    if form.validate_on_submit():
        token = exports.issue_feed(db.session, link, now=services().now())
        db.session.commit()
        url = current_app.config["PUBLIC_URL"] + url_for("exports.feed", token=token)
    page = render_template(
        "exports/calendar.html",
        child=link,
        form=form,
        feed=exports.feed_of(db.session, link),
        url=url,
        webcal=exports.webcal_url(url) if url else None,
        backend=backend_of(link, pool=services().pool),
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"  # the page may hold the secret URL
    return response


@bp.get("/calendar/<token>.ics")
@limiter.limit(FEED_LIMIT)
def feed(token: str) -> ResponseReturnValue:
    """Serve a child's calendar to whoever holds the secret URL (no sign-in)."""
    try:
        link = exports.link_for_token(db.session, token)
    except exports.FeedNotFound:
        abort(404)
    now = services().now()
    window = exports.feed_window(now.astimezone(ZoneInfo(link.instance.timezone)).date())
    [diary] = diary_service().read([link], exports.FEED_SECTIONS, window)
    db.session.commit()
    try:
        body = exports.build_calendar(diary, now=now)
    except exports.FeedUnavailable:
        return "", 503, {"Retry-After": FEED_RETRY_SECONDS, "Cache-Control": "no-store"}
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# Sections the sync keeps, and so the log holds.
PROOF_SECTIONS = tuple(section.value for section in Section)
PROOF_LIMIT = "20 per minute"


def _proof_form() -> ProofForm:
    form = ProofForm(request.args)
    form.section.choices = [SelectChoice(name, section_title(name)) for name in PROOF_SECTIONS]
    return form


@bp.get("/child/<int:child_id>/proof")
@login_required
@limiter.limit(PROOF_LIMIT)
def proof(child_id: int) -> ResponseReturnValue:
    """Ask which records to prove; with a query, download their proof bundle (JSON)."""
    link = _own_child(child_id)
    form = _proof_form()
    if "section" not in request.args:
        return render_template("exports/proof.html", child=link, form=form)
    if not form.validate():
        return render_template("exports/proof.html", child=link, form=form), 400
    try:
        zone = ZoneInfo(link.instance.timezone)
        document = proofs.bundle(db.session, link_id=link.id, query=_proof_query(form), zone=zone)
    except proofs.NoCheckpoint:
        form.section.errors.append(
            _("Журнал ещё не подписал записей этого ребёнка. Попробуйте через минуту.")
        )
        return render_template("exports/proof.html", child=link, form=form), 409
    body = json.dumps(document, ensure_ascii=False, indent=1)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="diary-proof-{form.section.data}-{local_now().date()}.json"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _proof_query(form: ProofForm) -> proofs.Query:
    return proofs.Query(
        section=form.section.data,
        start=form.start.data,
        end=form.end.data,
        as_of=form.as_of.data,
        record_key=form.record.data or None,
        since=form.since.data,
    )
