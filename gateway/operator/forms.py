"""Forms of the operators' console."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL
from wtforms.validators import DataRequired
from wtforms.validators import Optional
from wtforms.validators import Regexp

from gateway.forms import BaseForm
from gateway.forms import MaxLength
from gateway.labels import REASON_LABELS


class InstanceForm(BaseForm):
    """Register a connector instance in one of the operator's regions."""

    region_code = SelectField(_l("Регион (код)"), choices=[])
    region_name = StringField(
        _l("Название региона для родителей"),
        validators=[DataRequired(message=_l("Укажите название.")), MaxLength(200)],
    )
    connector = SelectField(_l("Школьная система"), choices=[])
    key = StringField(
        _l("Короткое имя"),
        validators=[
            DataRequired(message=_l("Укажите короткое имя.")),
            Regexp(r"^[a-z0-9-]{3,64}$", message=_l("Латиница, цифры и дефис, 3–64 знака.")),
        ],
        description=_l("Например, samara-netschool"),
    )
    base_url = StringField(
        _l("Адрес системы"),
        validators=[
            DataRequired(message=_l("Укажите адрес.")),
            URL(require_tld=False, message=_l("Нужен адрес вида https://dnevnik.example.ru.")),
            MaxLength(500),
        ],
    )
    settings = TextAreaField(
        _l("Настройки (JSON)"),
        validators=[Optional(), MaxLength(4000)],
        description=_l('Например, {"operator_api_key": "…"}'),
    )
    partner_client_id = StringField(
        _l("Партнёрский клиент: идентификатор"),
        validators=[Optional(), MaxLength(200)],
        description=_l("Если система выдала шлюзу партнёрский доступ"),
    )
    partner_client_secret = PasswordField(
        _l("Партнёрский клиент: секрет"), validators=[Optional(), MaxLength(200)]
    )

    def validate_settings(self, field: TextAreaField) -> None:
        """Accept a JSON object only."""
        try:
            value = json.loads((field.data or "").strip() or "{}")
        except ValueError as err:
            raise ValidationError(_l("Это не JSON.")) from err
        if not isinstance(value, dict):
            raise ValidationError(_l("Нужен JSON-объект: {…}."))

    def parsed_settings(self) -> dict[str, object]:
        """Return the settings with the partner client merged in."""
        settings: dict[str, object] = json.loads((self.settings.data or "").strip() or "{}")
        if self.partner_client_id.data:
            settings["partner_client_id"] = self.partner_client_id.data.strip()
        if self.partner_client_secret.data:
            settings["partner_client_secret"] = self.partner_client_secret.data
        return settings


class CheckForm(BaseForm):
    """Test credentials for "test connection"."""

    school = StringField(_l("Школа"), validators=[Optional(), MaxLength(200)])
    login = StringField(
        _l("Тестовый логин"), validators=[DataRequired(message=_l("Введите логин."))]
    )
    password = PasswordField(_l("Пароль"), validators=[DataRequired(message=_l("Введите пароль."))])


class ApproveForm(BaseForm):
    """Approve; the login is typed only where the system cannot create one."""

    login = StringField(_l("Логин, выданный школой"), validators=[Optional(), MaxLength(200)])
    password = PasswordField(_l("Пароль"), validators=[Optional(), MaxLength(200)])


class RefuseForm(BaseForm):
    """Refuse with a reason from the list."""

    reason = SelectField(
        _l("Причина"), choices=[SelectChoice(k, v) for k, v in REASON_LABELS.items()]
    )
    text = TextAreaField(_l("Пояснение для родителя"), validators=[Optional(), MaxLength(1000)])


class RoleForm(BaseForm):
    """The administrator makes someone a regional operator."""

    person = StringField(
        _l("Телефон или почта"),
        validators=[DataRequired(message=_l("Укажите телефон или почту.")), MaxLength(255)],
    )
    region_code = StringField(
        _l("Код региона"),
        validators=[
            DataRequired(message=_l("Укажите код региона.")),
            Regexp(r"^\d{2,3}$", message=_l("Две-три цифры.")),
        ],
    )


class ActionForm(BaseForm):
    """A CSRF-protected button."""


class ApproveInstanceForm(ActionForm):
    """Approve an instance at the address the administrator was shown."""

    # Empty or missing reads as another address: the approval is refused, never assumed.
    base_url = HiddenField()


class RepointForm(BaseForm):
    """Give an instance a new address."""

    base_url = StringField(
        _l("Новый адрес системы"),
        validators=[
            DataRequired(message=_l("Укажите адрес.")),
            URL(require_tld=False, message=_l("Нужен адрес вида https://dnevnik.example.ru.")),
            MaxLength(500),
        ],
    )
