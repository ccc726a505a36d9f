"""Forms of the exports area."""

from __future__ import annotations

from gateway.forms import BaseForm


class IssueFeedForm(BaseForm):
    """A CSRF-protected button that creates or rotates a calendar feed's secret URL."""
