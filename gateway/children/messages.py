"""Plain-words explanations of why linking a child did not work."""

from __future__ import annotations

import typing as t

from flask_babel import gettext as _

from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import InvalidCredentials
from connectors.errors import SchoolNameTooVague
from connectors.errors import SchoolNotFound
from gateway.services.linking import NoStudents

if t.TYPE_CHECKING:
    from gateway.models import ConnectorInstance


def explain(err: Exception, instance: ConnectorInstance) -> str:
    """Say why linking failed; in every case nothing was stored."""
    if isinstance(err, NoStudents):
        return _("Школьная система приняла логин, но за ним нет учеников.")
    if isinstance(err, SchoolNameTooVague):
        return _("Это название подходит многим школам: допишите номер, например «Лицей № 3».")
    if isinstance(err, SchoolNotFound) and err.candidates:
        return _("Под это название подходит не одна школа или ни одна точно: выберите из списка.")
    if isinstance(err, SchoolNotFound):
        return _("Школьная система не нашла такую школу. Проверьте название, например «Лицей № 3».")
    if isinstance(err, InvalidCredentials):
        return _("Школьная система не приняла логин или пароль. Проверьте их и попробуйте снова.")
    if isinstance(err, AccountLocked):
        return _("Школьная система временно заблокировала вход. Попробуйте позже.")
    if isinstance(err, AccessDenied):
        return _("Эта учётная запись не даёт доступа к дневнику ученика.")
    return _(
        "Система «%(region)s» сейчас не отвечает. Ничего не сохранено, попробуйте позже.",
        region=instance.region_name,
    )
