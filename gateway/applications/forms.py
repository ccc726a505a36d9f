"""The parent's application form."""

from __future__ import annotations

import datetime as dt
import re
import typing as t

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms import DateField
from wtforms import Field
from wtforms import SelectField
from wtforms import StringField
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired

from gateway.forms import BaseForm
from gateway.forms import MaxLength
from gateway.forms import child_name_validators
from gateway.services import applications
from gateway.services import documents

if t.TYPE_CHECKING:
    from gateway.models import User

RELATION_LABELS = {
    "mother": _l("Мать"),
    "father": _l("Отец"),
    "guardian": _l("Опекун или попечитель"),
}
DIFFERENT_APPLICANT = _l(
    "Заявка подана другим лицом: ФИО и дата рождения заявителя должны совпадать "
    "с подтверждёнными данными вашей учётной записи на Госуслугах."
)


# What a school's records hold: Cyrillic words, maybe hyphenated («Салтыкова-Щедрина»).
_CYRILLIC_WORD = r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*"
CHILD_NAME = re.compile(rf"{_CYRILLIC_WORD}(?:\s+{_CYRILLIC_WORD})+")
# 1 to 11, then maybe the class letter, bare or quoted: «5», «5А», «5 «А»», «11б», «7-Б».
CLASS_NAME = re.compile(r"(?:[1-9]|1[01])(?:\s*-?\s*[«\"„“]?[А-Яа-яЁё][»\"“”]?)?")
SCHOOL_AGES = range(6, 19)  # a child from first grade to the last, in full years


def age_on(birth: dt.date, day: dt.date) -> int:
    """Return the full years a person born on ``birth`` has on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _document(
    check: t.Callable[[str], str], message: t.Any
) -> t.Callable[[ApplicationForm, Field], None]:
    """Check a document number; an empty one only when the form must have it."""

    def validate(form: ApplicationForm, field: Field) -> None:
        if not (field.data or "").strip():
            if form.documents_required:
                raise ValidationError(_l("Укажите серию и номер."))
            return
        try:
            check(field.data)
        except documents.InvalidDocument as err:
            raise ValidationError(str(message)) from err

    return validate


class ApplicationForm(BaseForm):
    """The child, their school and class, the parent's passport and relation, the consent.

    Set ``documents_required`` (a new application, or one whose documents were erased) and
    ``applicant`` (the verified person) before validating, so that every problem, the
    documents and the applicant's identity included, is reported in one round.
    """

    documents_required = True
    applicant: User | None = None
    today: dt.date | None = None  # Moscow's day by the gateway's clock: the child's age

    instance = SelectField(_l("Регион"), choices=[])
    child_full_name = StringField(
        _l("ФИО ребёнка"),
        validators=[DataRequired(message=_l("Укажите ФИО ребёнка.")), MaxLength(200)],
    )
    child_birth_date = DateField(
        _l("Дата рождения ребёнка"),
        validators=[InputRequired(message=_l("Укажите дату рождения ребёнка."))],
        invalid_value_message=_l("Проверьте дату."),
    )
    certificate = StringField(
        _l("Свидетельство о рождении: серия и номер"),
        validators=[
            MaxLength(40),
            _document(documents.certificate, _l("Формат: IV-ЕР 123456.")),
        ],
        description=_l("Например, IV-ЕР 123456"),
    )
    school = StringField(
        _l("Школа"),
        validators=[DataRequired(message=_l("Укажите школу.")), MaxLength(200)],
        description=_l("Например, МБОУ Лицей № 3 г. Самары"),
    )
    class_name = StringField(
        _l("Класс"),
        validators=[DataRequired(message=_l("Укажите класс.")), MaxLength(16)],
        description=_l("Например, 8 «А»"),
    )
    display_name = StringField(
        _l("Как называть ребёнка в сервисе"),
        validators=child_name_validators(),
        description=_l("Так ребёнок будет подписан на ваших страницах; можно поменять позже"),
    )
    applicant_full_name = StringField(
        _l("Ваши ФИО, как в паспорте"),
        validators=[DataRequired(message=_l("Укажите ваши ФИО.")), MaxLength(200)],
    )
    applicant_birth_date = DateField(
        _l("Ваша дата рождения"),
        validators=[InputRequired(message=_l("Укажите вашу дату рождения."))],
        invalid_value_message=_l("Проверьте дату."),
    )
    passport = StringField(
        _l("Ваш паспорт: серия и номер"),
        validators=[
            MaxLength(20),
            _document(documents.passport, _l("Формат: 36 04 123456.")),
        ],
        description=_l("Например, 36 04 123456"),
    )
    relation = SelectField(
        _l("Кем вы приходитесь ребёнку"),
        choices=[SelectChoice(k, v) for k, v in RELATION_LABELS.items()],
    )
    consent = BooleanField(
        _l(
            "Согласен(на) на обработку персональных данных: мои и ребёнка данные передаются "
            "оператору региона для выдачи логина"
        ),
        validators=[DataRequired(message=_l("Без согласия заявку не передать."))],
    )

    def validate_child_full_name(self, field: StringField) -> None:
        """Refuse a name a school operator cannot look up: not Cyrillic, or a single word."""
        if (field.data or "").strip() and not CHILD_NAME.fullmatch(field.data.strip()):
            raise ValidationError(
                _l("Фамилия и имя ребёнка русскими буквами, как в школе: Новикова София.")
            )

    def validate_child_birth_date(self, field: DateField) -> None:
        """Refuse a birth date that does not make a school-age child."""
        if field.data is None or self.today is None:
            return
        age = age_on(field.data, self.today)
        if age < SCHOOL_AGES.start:
            raise ValidationError(_l("Ребёнку меньше 6 лет: проверьте дату рождения."))
        if age >= SCHOOL_AGES.stop:
            raise ValidationError(_l("Ребёнку больше 18 лет: проверьте дату рождения."))

    def validate_class_name(self, field: StringField) -> None:
        """Refuse a class other than 1 to 11 with an optional letter."""
        if (field.data or "").strip() and not CLASS_NAME.fullmatch(field.data.strip()):
            raise ValidationError(_l("Класс от 1 до 11 и буква, если есть: 5, 5А, 11 «Б»."))

    def validate_applicant_full_name(self, field: StringField) -> None:
        """Refuse a name other than the verified person's."""
        if self.applicant is not None and not applications.same_name(
            field.data or "", self.applicant.full_name
        ):
            raise ValidationError(DIFFERENT_APPLICANT)

    def validate_applicant_birth_date(self, field: DateField) -> None:
        """Refuse a birth date other than the verified person's."""
        known = self.applicant.birth_date if self.applicant is not None else field.data
        if field.data is not None and field.data != known:
            raise ValidationError(DIFFERENT_APPLICANT)
