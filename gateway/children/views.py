"""The children a parent follows: choose a region, name, rename, reorder and unlink them.

The link flow itself (sign-in, SMS code, the backend's own page) is in
:mod:`gateway.children.link`, on this blueprint.
"""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from gateway.children.forms import ManageForm
from gateway.children.forms import NamesForm
from gateway.children.forms import RenameForm
from gateway.extensions import db
from gateway.guards import require_account_level
from gateway.services import access
from gateway.services import children as children_service
from gateway.services.instances import enabled_instances

if t.TYPE_CHECKING:
    from gateway.models import ChildLink

bp = Blueprint("children", __name__, url_prefix="/children")


bp.before_request(require_account_level)


@bp.get("/link")
@login_required
def choose_region() -> ResponseReturnValue:
    """List the regions whose systems the gateway can read."""
    return render_template("children/regions.html", instances=enabled_instances(db.session))


def _own_child(child_id: int) -> ChildLink:
    try:
        return access.require_own_child(db.session, current_user, child_id)
    except access.ChildNotFound:
        abort(404)


def _being_named() -> list[ChildLink]:
    """Return the parent's children that the last link asked names for."""
    wanted = set(session.get("naming") or [])
    return [c for c in access.children_of(db.session, current_user) if c.id in wanted]


@bp.route("/names", methods=["GET", "POST"])
@login_required
def names() -> ResponseReturnValue:
    """Name the children one login showed (each prefilled with its ChildN)."""
    children = _being_named()
    if not children:
        return redirect(url_for("diary.family"))
    form = NamesForm(data={"names": [c.display_name for c in children]})
    if form.validate_on_submit():
        for child, entry in zip(children, form.names.entries, strict=False):
            children_service.rename(child, entry.data)
        db.session.commit()
        session.pop("naming", None)
        flash(_("Сохранено."), "success")
        return redirect(url_for("diary.family"), 303)
    pairs = list(zip(children, form.names, strict=False))
    return render_template("children/names.html", form=form, pairs=pairs)


@bp.get("/")
@login_required
def manage() -> ResponseReturnValue:
    """List the children with rename, reorder and unlink controls."""
    return _manage_page()


def _manage_page(refused: tuple[int, RenameForm] | None = None) -> ResponseReturnValue:
    children = access.children_of(db.session, current_user)
    return render_template(
        "children/manage.html", children=children, form=ManageForm(), refused=refused
    )


@bp.post("/<int:child_id>/rename")
@login_required
def rename(child_id: int) -> ResponseReturnValue:
    """Rename a child (Child1 → «Маша»); a refused name comes back with the reason."""
    link = _own_child(child_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _manage_page(refused=(link.id, form))
    children_service.rename(link, form.name.data)
    db.session.commit()
    flash(_("Сохранено."), "success")
    return redirect(url_for("children.manage"), 303)


@bp.post("/<int:child_id>/move/<direction>")
@login_required
def move(child_id: int, direction: str) -> ResponseReturnValue:
    """Move a child up or down on the family page."""
    link = _own_child(child_id)
    if direction not in ("up", "down") or not ManageForm().validate_on_submit():
        abort(400)
    children_service.move(db.session, link, -1 if direction == "up" else 1)
    db.session.commit()
    return redirect(url_for("children.manage"), 303)


@bp.route("/<int:child_id>/unlink", methods=["GET", "POST"])
@login_required
def unlink(child_id: int) -> ResponseReturnValue:
    """Stop following a child; the stored school login goes too if nobody else uses it."""
    link = _own_child(child_id)
    form = ManageForm()
    if not form.validate_on_submit():
        return render_template("children/unlink.html", child=link, form=form)
    name = link.label
    children_service.unlink(db.session, link)
    db.session.commit()
    flash(_("%(name)s больше не отслеживается.", name=name), "success")
    return redirect(url_for("children.manage"), 303)
