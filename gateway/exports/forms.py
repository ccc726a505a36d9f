"""Forms of the exports area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import ValidationError
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from gateway.forms import BaseForm
from gateway.forms import MaxLength


class IssueFeedForm(BaseForm):
    """A CSRF-protected button that creates or rotates a calendar feed's secret URL."""


class ProofForm(BaseForm):
    """Which states of a child's diary a proof bundle covers (read from the query string).

    Downloading changes nothing, so the form goes by GET and carries no CSRF token.
    """

    class Meta:
        csrf = False

    section = SelectField(
        _l("Раздел"),
        choices=[],
        validate_choice=True,
        invalid_choice_message=_l("Выберите раздел из списка."),
    )
    start = DateField(
        _l("С"),
        validators=[Optional()],
        invalid_value_message=_l("Проверьте дату."),
        description=_l("Даты уроков, работ и заданий. Без дат — за всё время."),
    )
    end = DateField(_l("По"), validators=[Optional()], invalid_value_message=_l("Проверьте дату."))
    as_of = DateField(
        _l("Что дневник показывал на дату"),
        validators=[Optional()],
        invalid_value_message=_l("Проверьте дату."),
        description=_l("Только то, что было видно в конце этого дня. Без даты — вся история."),
    )
    record = HiddenField(validators=[Optional(), MaxLength(255)])
    since = IntegerField(
        _l("Размер сохранённой контрольной точки"),
        description=_l(
            "Вторая строка сохранённой подписи журнала: файл докажет, что журнал"
            " с тех пор только дополнялся."
        ),
        validators=[Optional(), NumberRange(min=1, message=_l("Целое число больше нуля."))],
        invalid_value_message=_l("Целое число больше нуля."),
    )

    def validate_end(self, field: DateField) -> None:
        """Refuse a period that ends before it starts."""
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("Конец периода раньше его начала."))
