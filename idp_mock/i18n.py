"""Show pages in Russian, or in English when ui_locales or the language switch asks for it."""

from __future__ import annotations

import re

from flask import Flask
from flask import request
from flask import session

LOCALES = ("ru", "en")
DEFAULT = "ru"

# Russian is the source language; a missing English entry falls back to Russian.
ENGLISH = {
    "Госуслуги (демо)": "Gosuslugi (demo)",
    "Демонстрационный вход: учебная замена Госуслуг": "Demo sign-in: a stand-in for Gosuslugi",
    "Вход": "Sign in",
    "Войти": "Sign in",
    "Телефон, почта или СНИЛС": "Phone, e-mail or SNILS",
    "Пароль": "Password",
    "Неверный логин или пароль": "Wrong login or password",
    "Осталось попыток": "Attempts left",
    "Учётная запись временно заблокирована из-за многочисленных неудачных попыток входа. "
    "Попробуйте снова через {minutes} мин.": "The account is temporarily locked after too many "
    "failed sign-in attempts. Try again in {minutes} min.",
    "Слишком много неудачных попыток входа с вашего адреса. Попробуйте снова через {minutes} "
    "мин.": "Too many failed sign-in attempts from your address. Try again in {minutes} min.",
    "Неверный код. Осталось попыток: {attempts}": "Wrong code. Attempts left: {attempts}",
    "Срок действия кода истёк. Запросите новый код": "The code has expired. Ask for a new one",
    "Попытки ввода кода исчерпаны.": "No attempts to enter the code are left.",
    "Код не запрашивался. Запросите новый код": "No code was sent. Ask for a new one",
    "Новый код можно запросить через {seconds} с": "You can ask for a new code in {seconds} s",
    "Превышено число запросов кода. Попробуйте снова через {minutes} мин.": (
        "Too many codes were asked for. Try again in {minutes} min."
    ),
    "Войдите снова": "Sign in again",
    "Начните регистрацию заново": "Start the registration again",
    "Зарегистрироваться": "Register",
    "Нет учётной записи?": "No account yet?",
    "Предоставление прав доступа": "Access request",
    "запрашивает доступ к вашим данным:": "asks for access to your data:",
    "приложение": "the application",
    "Разрешить": "Allow",
    "Отказать": "Deny",
    "Подтвердить, что это вы (идентификатор учётной записи и её уровень)": (
        "Confirm it is you (account id and level)"
    ),
    "Фамилия, имя, отчество и дата рождения": "Surname, name, patronymic and date of birth",
    "Адрес электронной почты": "E-mail address",
    "Номер мобильного телефона": "Mobile phone number",
    "Код из СМС": "Code from the SMS",
    "Код подтверждения": "Confirmation code",
    "Подтвердить": "Confirm",
    "Отправить код ещё раз": "Send the code again",
    "Мы отправили код на номер": "We sent a code to",
    "Вы вошли как": "You are signed in as",
    "Выйти": "Sign out",
    "Профиль": "Profile",
    "Выйти?": "Sign out?",
    "Вы вышли": "You are signed out",
    "Сессия на сайте входа завершена.": "Your session at the sign-in site has ended.",
    "Регистрация": "Registration",
    "Фамилия": "Surname",
    "Имя": "Name",
    "Отчество (при наличии)": "Patronymic (if any)",
    "Мобильный телефон": "Mobile phone",
    "Электронная почта": "E-mail",
    "Повторите пароль": "Repeat the password",
    "Подтверждение контактов": "Confirm your contacts",
    "Код из письма": "Code from the e-mail",
    "Уровень учётной записи": "Account level",
    "упрощённая": "simplified",
    "стандартная": "standard",
    "подтверждённая": "confirmed",
}


def adopt(ui_locales: str | None) -> None:
    """Switch the page language to the first supported tag of `ui_locales` (OIDC Core §3.1.2.1)."""
    for tag in (ui_locales or "").split():
        language = re.split(r"[-_]", tag.lower())[0]
        if language in LOCALES:
            session["locale"] = language
            return


def locale() -> str:
    """Return the language of this browser's pages."""
    value = session.get("locale", DEFAULT)
    return value if value in LOCALES else DEFAULT


def gettext(text: str, **values: object) -> str:
    """Translate a Russian source string into the page language and fill its placeholders."""
    translated = ENGLISH.get(text, text) if locale() == "en" else text
    return translated.format(**values) if values else translated


def init_i18n(app: Flask) -> None:
    """Honour ?lang=en|ru on any page, and give templates `_` and `locale`."""

    @app.before_request
    def _switch() -> None:
        if request.method == "GET" and request.args.get("lang") in LOCALES:
            session["locale"] = request.args["lang"]

    app.jinja_env.globals.update(_=gettext, locale=locale)
