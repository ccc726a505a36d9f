"""Plain-words explanations of why linking a child did not work."""

from __future__ import annotations

import typing as t

from flask_babel import gettext as _

from gateway.services.link_flow import Refusal

if t.TYPE_CHECKING:
    from gateway.models import ConnectorInstance


def explain(reason: Refusal, instance: ConnectorInstance) -> str:
    """Say why linking failed; in every case nothing was stored."""
    if reason is Refusal.NO_STUDENTS:
        return _("Школьная система приняла логин, но за ним нет учеников.")
    if reason is Refusal.SCHOOL_VAGUE:
        return _("Это название подходит многим школам: допишите номер, например «Лицей № 3».")
    if reason is Refusal.SCHOOL_AMBIGUOUS:
        return _("Под это название подходит не одна школа или ни одна точно: выберите из списка.")
    if reason is Refusal.SCHOOL_UNKNOWN:
        return _("Школьная система не нашла такую школу. Проверьте название, например «Лицей № 3».")
    if reason is Refusal.CREDENTIALS:
        return _("Школьная система не приняла логин или пароль. Проверьте их и попробуйте снова.")
    if reason is Refusal.LOCKED:
        return _("Школьная система временно заблокировала вход. Попробуйте позже.")
    if reason is Refusal.DENIED:
        return _("Эта учётная запись не даёт доступа к дневнику ученика.")
    if reason is Refusal.CODE_ATTEMPTS_USED:
        return _(
            "Код введён неверно слишком много раз. Начните привязку заново: введите логин "
            "и пароль, и школьная система пришлёт новый код."
        )
    if reason is Refusal.CODE_EXPIRED:
        return _("Время на ввод кода истекло. Введите логин и пароль ещё раз.")
    return _(
        "Система «%(region)s» сейчас не отвечает. Ничего не сохранено, попробуйте позже.",
        region=instance.region_name,
    )


SCHOOL_REFUSALS = frozenset(
    {Refusal.SCHOOL_VAGUE, Refusal.SCHOOL_AMBIGUOUS, Refusal.SCHOOL_UNKNOWN}
)
