"""The notification preferences form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms import FieldList
from wtforms import SelectField
from wtforms import TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from gateway.forms import BaseForm

DELIVERIES = [
    SelectChoice("instant", _l("Сразу")),
    SelectChoice("digest", _l("В сводке за день")),
    SelectChoice("off", _l("Не присылать")),
]
# Russia's zones, west to east; empty: each child's region's own.
ZONES = [
    SelectChoice("", _l("Как в регионе ребёнка")),
    SelectChoice("Europe/Kaliningrad", _l("Калининград (МСК−1)")),
    SelectChoice("Europe/Moscow", _l("Москва (МСК)")),
    SelectChoice("Europe/Samara", _l("Самара (МСК+1)")),
    SelectChoice("Asia/Yekaterinburg", _l("Екатеринбург (МСК+2)")),
    SelectChoice("Asia/Omsk", _l("Омск (МСК+3)")),
    SelectChoice("Asia/Novosibirsk", _l("Новосибирск (МСК+4)")),
    SelectChoice("Asia/Irkutsk", _l("Иркутск (МСК+5)")),
    SelectChoice("Asia/Yakutsk", _l("Якутск (МСК+6)")),
    SelectChoice("Asia/Vladivostok", _l("Владивосток (МСК+7)")),
    SelectChoice("Asia/Magadan", _l("Магадан (МСК+8)")),
    SelectChoice("Asia/Kamchatka", _l("Камчатка (МСК+9)")),
]
TIME_MESSAGE = _l("Укажите время, например 21:00.")


def _time(label: str) -> TimeField:
    return TimeField(
        label,
        validators=[InputRequired(message=TIME_MESSAGE)],
        invalid_value_message=TIME_MESSAGE,
    )


class NotificationsForm(BaseForm):
    """When and how a person hears of news; one delivery per child and kind, in page order."""

    email = BooleanField(_l("Присылать уведомления на почту"))
    details = BooleanField(
        _l("Писать в письмах и в Telegram сами оценки, комментарии и задания"),
        description=_l("Без этого письмо говорит, что случилось, и ведёт в дневник."),
    )
    quiet_from = _time(_l("Не беспокоить с"))
    quiet_until = _time(_l("до"))
    digest_at = _time(_l("Сводку за день присылать в"))
    time_zone = SelectField(
        _l("Часовой пояс"),
        choices=ZONES,
        validate_choice=True,
        invalid_choice_message=_l("Выберите часовой пояс из списка."),
    )
    deliveries = FieldList(
        SelectField(
            choices=DELIVERIES,
            validate_choice=True,
            invalid_choice_message=_l("Выберите из списка."),
        )
    )


# What each kind of news is called on the preferences page (keys: ``news.NewsKind``).
KIND_LABELS = {
    "mark": _l("Новая оценка"),
    "mark_changed": _l("Оценку исправили"),
    "mark_removed": _l("Оценку убрали"),
    "absence": _l("Пропуск (прогул — сразу, даже ночью)"),
    "timetable": _l("Изменение расписания на сегодня и завтра"),
    "homework": _l("Новое домашнее задание"),
    "event": _l("Собрание или событие"),
    "message": _l("Сообщение учителя"),
}


class DeviceForm(BaseForm):
    """Stop pushing to one of the person's browsers (its id is in the address)."""


class TelegramForm(BaseForm):
    """Connect a Telegram chat, or disconnect it (the action says which)."""
