"""The web app manifest and the service worker, both at the site's root.

The service worker is served from ``/sw.js`` rather than from ``/static/`` because a
worker controls only the pages under its own path: from the root, every page, and the push
messages it shows open any of them. It is never cached long, so a fixed worker reaches
every browser at its next visit.
"""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import send_from_directory
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

bp = Blueprint("pwa", __name__)
THEME = "#0d4cd3"
BACKGROUND = "#f5f7fa"


@bp.get("/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    """Describe the app to a browser installing it (W3C Web App Manifest)."""
    response = jsonify(
        name=_("Дневники семьи"),
        short_name=_("Дневники"),
        description=_("Оценки, домашние задания и расписание всех детей в одном месте."),
        lang=str(get_locale()),
        start_url="/",
        scope="/",
        display="standalone",
        background_color=BACKGROUND,
        theme_color=THEME,
        icons=[
            {"src": _icon("icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": _icon("icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": _icon("maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    )
    response.mimetype = "application/manifest+json"
    return response


def _icon(name: str) -> str:
    return url_for("static", filename=f"icons/{name}")


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """Serve the service worker, to be checked for a new version at every visit."""
    response = send_from_directory(
        current_app.static_folder or "static", "sw.js", mimetype="text/javascript", max_age=0
    )
    response.headers["Cache-Control"] = "no-cache"
    return response
