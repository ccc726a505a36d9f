"""Forms of the children area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FieldList
from wtforms import PasswordField
from wtforms import StringField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import Regexp

from gateway.forms import BaseForm
from gateway.forms import MaxLength
from gateway.forms import child_name_validators

NAME_LABEL = _l("Как называть ребёнка в сервисе")
NAME_HINT = _l("Так ребёнок будет подписан на ваших страницах; можно поменять позже")


class LinkForm(BaseForm):
    """School-issued login and password, the school where the system needs it, and the name.

    Set ``require_school`` before validating for a system that signs in per school;
    ``schools`` are the backend directory's names to offer when the typed one did not fit.
    """

    require_school = False
    schools: tuple[str, ...] = ()

    school = StringField(
        _l("Школа"),
        validators=[MaxLength(200)],
        description=_l("Как в названии школы, например «Лицей № 3»"),
    )
    school_choice = StringField(_l("Школа из справочника"), validators=[MaxLength(200)])
    login = StringField(
        _l("Логин от электронного дневника"),
        validators=[DataRequired(message=_l("Введите логин.")), MaxLength(200)],
    )
    password = PasswordField(
        _l("Пароль"),
        validators=[DataRequired(message=_l("Введите пароль.")), MaxLength(200)],
    )
    name = StringField(NAME_LABEL, validators=child_name_validators(), description=NAME_HINT)

    def validate_school(self, field: StringField) -> None:
        """Ask for the school where the system needs one (a blank one counts as none)."""
        if self.require_school and not self.school_name():
            raise ValidationError(_l("Укажите школу, в которой учится ребёнок."))

    def school_name(self) -> str:
        """Return the school chosen from the directory's list, else the one typed."""
        return (self.school_choice.data or self.school.data or "").strip()


class CodeForm(BaseForm):
    """The one-time code the school system sent by SMS, and the name (kept from the login)."""

    code = StringField(
        _l("Код из СМС"),
        validators=[
            DataRequired(message=_l("Введите код из СМС.")),
            Regexp(r"^\s*\d{4,8}\s*$", message=_l("Код состоит из цифр.")),
        ],
    )
    name = StringField(NAME_LABEL, validators=child_name_validators(), description=NAME_HINT)


class NamesForm(BaseForm):
    """Names for the children a login showed, one entry per newly linked child."""

    names = FieldList(StringField(NAME_LABEL, validators=child_name_validators()))


class RenameForm(BaseForm):
    """A child's name as the parent wants to see it."""

    name = StringField(_l("Как показывать ребёнка"), validators=child_name_validators())


class ManageForm(BaseForm):
    """A CSRF-protected button (move up or down, unlink)."""
