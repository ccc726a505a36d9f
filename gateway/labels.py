"""Interface wording that more than one area shows, kept out of any one area's modules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# The reasons an operator may give for refusing an access application (the keys are
# ``services.applications.REASONS``): the operator picks one, the parent reads it.
REASON_LABELS = {
    "name_mismatch": _l("ФИО ребёнка не совпадает"),
    "birth_date_mismatch": _l("Дата рождения не совпадает"),
    "different_applicant": _l("Заявку подал не законный представитель"),
    "no_such_student": _l("Такого ученика нет в школе"),
    "other": _l("Другое"),
}
