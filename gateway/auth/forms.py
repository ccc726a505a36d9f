"""Forms of the sign-in area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms.validators import DataRequired

from gateway.forms import BaseForm


class ConsentForm(BaseForm):
    """Consent to the processing of personal data."""

    accept = BooleanField(
        _l("Я даю согласие на обработку персональных данных"),
        validators=[DataRequired(message=_l("Без согласия мы не сможем показать дневники."))],
    )


class LogoutForm(BaseForm):
    """A POST-only sign-out, so another site cannot sign a person out."""

    everywhere = BooleanField(_l("Выйти на всех устройствах"))
