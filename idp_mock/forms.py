"""Declare the provider's forms; Flask-WTF adds the CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import InputRequired


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Ask for a phone, e-mail or SNILS and a password (ids `login` and `password`)."""

    login = StringField("Телефон, почта или СНИЛС", validators=[InputRequired()])
    password = PasswordField("Пароль", validators=[InputRequired()])


class DecisionForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Carry only the CSRF token; the pressed button's value is the decision."""


class CodeForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Ask for a six-digit code; the resend button asks for a new one instead."""

    code = StringField("Код подтверждения")
    resend = SubmitField("Отправить код ещё раз")


class RegisterForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Ask for the name, a phone and/or e-mail and a password, as Gosuslugi does."""

    family_name = StringField("Фамилия")
    given_name = StringField("Имя")
    middle_name = StringField("Отчество (при наличии)")
    phone = StringField("Мобильный телефон")
    email = StringField("Электронная почта")
    password = PasswordField("Пароль")
    password_again = PasswordField("Повторите пароль")


class ContactCodesForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Ask for the SMS and e-mail codes; a resend button names its channel."""

    sms_code = StringField("Код из СМС")
    email_code = StringField("Код из письма")


class DocumentsForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Ask for SNILS and passport data toward a standard account."""

    snils = StringField("СНИЛС")
    birthdate = StringField("Дата рождения")
    passport_series = StringField("Серия паспорта")
    passport_number = StringField("Номер паспорта")
    passport_issued_on = StringField("Дата выдачи")
    passport_issuer_code = StringField("Код подразделения")
