"""Forms of the trusted-persons area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms import EmailField
from wtforms import StringField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import Optional

from gateway.forms import BaseForm
from gateway.forms import EmailAddress
from gateway.forms import MaxLength
from gateway.services.trust import normal_phone


class InviteForm(BaseForm):
    """Who to invite; the children and sections come as ``scope-<child id>`` checkboxes."""

    name = StringField(
        _l("Фамилия, имя и отчество, как на Госуслугах"),
        validators=[DataRequired(message=_l("Укажите ФИО.")), MaxLength(200)],
    )
    phone = StringField(
        _l("Телефон"),
        validators=[MaxLength(32)],
        description=_l("Например, +7 900 000-00-03"),
    )
    email = EmailField(
        _l("Электронная почта"),
        validators=[Optional(), EmailAddress(_l("Проверьте адрес почты.")), MaxLength(200)],
    )
    ends_on = DateField(
        _l("Доступ до (необязательно)"),
        validators=[Optional()],
        invalid_value_message=_l("Проверьте дату."),
    )

    def validate_phone(self, field: StringField) -> None:
        """Ask for a Russian number, or for a phone or an e-mail when both are empty."""
        phone, email = (field.data or "").strip(), (self.email.data or "").strip()
        if phone and normal_phone(phone) is None:
            raise ValidationError(_l("Телефон: +7 и десять цифр, например +7 900 000-00-03."))
        if not phone and not email:
            raise ValidationError(_l("Укажите телефон или электронную почту."))


class ActionForm(BaseForm):
    """A CSRF-protected button."""
