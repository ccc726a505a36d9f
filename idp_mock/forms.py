"""Declare the provider's forms; Flask-WTF adds the CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import InputRequired


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Ask for a phone, e-mail or SNILS and a password (ids `login` and `password`)."""

    login = StringField("Телефон, почта или СНИЛС", validators=[InputRequired()])
    password = PasswordField("Пароль", validators=[InputRequired()])


class DecisionForm(FlaskForm):  # type: ignore[misc]
    """Carry only the CSRF token; the pressed button's value is the decision."""
