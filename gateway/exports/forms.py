"""Forms of the exports area."""

from __future__ import annotations

from flask_wtf import FlaskForm


class IssueFeedForm(FlaskForm):
    """A CSRF-protected button that creates or rotates a calendar feed's secret URL."""
