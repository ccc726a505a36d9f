"""Create the Flask extensions unbound; the factory binds them."""

from __future__ import annotations

import typing as t

from flask_wtf.csrf import CSRFProtect

View = t.TypeVar("View", bound=t.Callable[..., t.Any])

csrf = CSRFProtect()


def csrf_exempt(view: View) -> View:
    """Exempt a view from CSRF checks; Flask-WTF is untyped, so this keeps the view's type."""
    csrf.exempt(view)
    return view
