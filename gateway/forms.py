"""What every form of the gateway shares: no control characters, no silent truncation.

Every form class derives from :class:`BaseForm`. Its ``validate`` adds one check to every text
field (``StringField`` and its kin: passwords, e-mail, text areas): a control character, such
as the NUL byte PostgreSQL cannot store, is refused with a message next to the field; tabs and
line breaks are allowed in multi-line fields only. Length limits go through
:class:`MaxLength`, which refuses an over-long value instead of rendering a ``maxlength``
attribute: browsers cut a pasted value at ``maxlength`` without a word, and the form then
saves what the person never meant.
"""

from __future__ import annotations

import typing as t

import email_validator
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms import FieldList
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import Length

from gateway.services.children import MAX_NAME
from gateway.services.text import has_control_characters


def no_control_characters(form: FlaskForm, field: Field) -> None:
    """Refuse a text value with control characters."""
    multi_line = isinstance(field, TextAreaField)
    if isinstance(field.data, str) and has_control_characters(field.data, multi_line=multi_line):
        raise ValidationError(_l("Уберите служебные символы: их нельзя сохранить."))


class MaxLength(Length):
    """Refuse a value longer than ``max`` characters; render no ``maxlength`` attribute."""

    def __init__(self, max: int, message: t.Any = None) -> None:
        """Set the limit and a message that names it."""
        super().__init__(max=max, message=message or _l("Не больше %(max)d знаков.", max=max))
        self.field_flags = {}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        """Refuse an over-long value with the message (WTForms would format it again)."""
        if field.data is not None and len(field.data) > self.max:
            raise ValidationError(str(self.message))


def _short_child_name(form: FlaskForm, field: Field) -> None:
    """Refuse a name longer than the limit once its spacing is tidied, as the service does."""
    if field.data and len(" ".join(field.data.split())) > MAX_NAME:
        raise ValidationError(_l("Имя — не больше %(max)d знаков.", max=MAX_NAME))


class EmailAddress:
    """Refuse what is not an e-mail address; the demo's ``*.example.test`` ones pass in
    development only (RFC 2606's ``test`` names reach no one)."""

    def __init__(self, message: t.Any) -> None:
        """Keep the message shown next to the field."""
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        """Check the syntax only: no DNS lookup while a person waits."""
        try:
            email_validator.validate_email(
                field.data or "",
                check_deliverability=False,
                test_environment=not current_app.config["PRODUCTION"],
            )
        except email_validator.EmailNotValidError as err:
            raise ValidationError(str(self.message)) from err


def child_name_validators() -> list[t.Any]:
    """Validate how a parent wants to see a child: what renaming and linking both accept."""
    return [DataRequired(message=_l("Введите имя.")), _short_child_name]


class BaseForm(FlaskForm):
    """A CSRF-protected form whose text fields refuse control characters."""

    def validate(self, extra_validators: t.Mapping[str, t.Sequence[t.Any]] | None = None) -> bool:
        """Validate every field, text fields also for control characters."""
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField):
                extra.setdefault(name, []).insert(0, no_control_characters)
        valid = super().validate(extra_validators=extra)
        return self._entries_are_printable() and valid

    def _entries_are_printable(self) -> bool:
        """Check the text entries of field lists, which per-field validators do not reach."""
        printable = True
        for field in self._fields.values():
            for entry in field.entries if isinstance(field, FieldList) else ():
                try:
                    no_control_characters(self, entry)
                except ValidationError as err:
                    entry.errors.append(str(err))
                    printable = False
        return printable
