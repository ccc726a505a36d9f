"""The parent's application form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import Field
from wtforms import SelectField
from wtforms import StringField
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from gateway.services import documents

RELATION_LABELS = {
    "mother": _l("Мать"),
    "father": _l("Отец"),
    "guardian": _l("Опекун или попечитель"),
}


def _document(check: object, message: object) -> object:
    def validate(form: FlaskForm, field: Field) -> None:
        if field.data:
            try:
                check(field.data)  # type: ignore[operator]
            except documents.InvalidDocument as err:
                raise ValidationError(str(message)) from err

    return validate


class ApplicationForm(FlaskForm):
    """The child, their school and class, the parent's passport and relation, the consent."""

    instance = SelectField(_l("Регион"), choices=[])
    child_full_name = StringField(
        _l("ФИО ребёнка"),
        validators=[DataRequired(message=_l("Укажите ФИО ребёнка.")), Length(max=200)],
    )
    child_birth_date = DateField(
        _l("Дата рождения ребёнка"),
        validators=[InputRequired(message=_l("Укажите дату рождения ребёнка."))],
    )
    certificate = StringField(
        _l("Свидетельство о рождении: серия и номер"),
        validators=[
            Optional(),
            Length(max=40),
            _document(documents.certificate, _l("Формат: IV-ЕР 123456.")),
        ],
        description=_l("Например, IV-ЕР 123456"),
    )
    school = StringField(
        _l("Школа"),
        validators=[DataRequired(message=_l("Укажите школу.")), Length(max=200)],
        description=_l("Например, МБОУ Лицей № 3 г. Самары"),
    )
    class_name = StringField(
        _l("Класс"),
        validators=[DataRequired(message=_l("Укажите класс.")), Length(max=16)],
        description=_l("Например, 8 «А»"),
    )
    applicant_full_name = StringField(
        _l("Ваши ФИО, как в паспорте"),
        validators=[DataRequired(message=_l("Укажите ваши ФИО.")), Length(max=200)],
    )
    applicant_birth_date = DateField(
        _l("Ваша дата рождения"),
        validators=[InputRequired(message=_l("Укажите вашу дату рождения."))],
    )
    passport = StringField(
        _l("Ваш паспорт: серия и номер"),
        validators=[
            Optional(),
            Length(max=20),
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

    def require_documents(self) -> bool:
        """Check that both documents were typed (a new application, or after erasure)."""
        missing = False
        for field in (self.certificate, self.passport):
            if not field.data:
                field.errors = [*field.errors, str(_l("Укажите серию и номер."))]
                missing = True
        return not missing
