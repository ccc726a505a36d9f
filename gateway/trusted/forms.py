"""Forms of the trusted-persons area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import EmailField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import Length
from wtforms.validators import Optional


class InviteForm(FlaskForm):
    """Who to invite; the children and sections come as ``scope-<child id>`` checkboxes."""

    name = StringField(
        _l("Фамилия, имя и отчество, как на Госуслугах"),
        validators=[DataRequired(message=_l("Укажите ФИО.")), Length(max=200)],
    )
    phone = StringField(
        _l("Телефон"),
        validators=[Optional(), Length(max=32)],
        description=_l("Например, +7 900 000-00-03"),
    )
    email = EmailField(
        _l("Электронная почта"),
        validators=[Optional(), Email(message=_l("Проверьте адрес почты.")), Length(max=200)],
    )
    ends_on = DateField(_l("Доступ до (необязательно)"), validators=[Optional()])


class ActionForm(FlaskForm):
    """A CSRF-protected button."""
