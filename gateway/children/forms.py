"""Forms of the children area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp


class LinkForm(FlaskForm):
    """School-issued login and password; the school only for systems that need it."""

    school = StringField(
        _l("Школа"),
        validators=[Optional(), Length(max=200)],
        description=_l("Как в названии школы, например «Лицей № 3»"),
    )
    login = StringField(
        _l("Логин от электронного дневника"),
        validators=[DataRequired(message=_l("Введите логин.")), Length(max=200)],
    )
    password = PasswordField(
        _l("Пароль"),
        validators=[DataRequired(message=_l("Введите пароль.")), Length(max=200)],
    )


class CodeForm(FlaskForm):
    """The one-time code the school system sent by SMS."""

    code = StringField(
        _l("Код из СМС"),
        validators=[
            DataRequired(message=_l("Введите код из СМС.")),
            Regexp(r"^\s*\d{4,8}\s*$", message=_l("Код состоит из цифр.")),
        ],
    )


class RenameForm(FlaskForm):
    """A child's name as the parent wants to see it."""

    name = StringField(
        _l("Как показывать ребёнка"),
        validators=[DataRequired(message=_l("Введите имя.")), Length(max=40)],
    )


class ManageForm(FlaskForm):
    """A CSRF-protected button (move up or down, unlink)."""
