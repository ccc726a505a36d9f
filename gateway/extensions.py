"""Flask extensions, created unbound; ``create_app`` binds them in a fixed order.

authlib's OAuth registry is the exception: it keeps registered clients and the cache on
itself, so each app gets its own (see ``wiring.bind_extensions``).
"""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from gateway import database  # noqa: F401  (SQLite foreign keys, before any engine)
from gateway.models.base import Base

# Rows stay readable after a commit: views commit before rendering, and reloading every
# attribute the template touches would cost a query each.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()
