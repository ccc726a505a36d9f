"""Word the provider's refusals (passwords, codes, throttling) in the page language."""

from __future__ import annotations

from idp_mock.accounts import LoginOutcome
from idp_mock.codes import CodeError
from idp_mock.codes import CodeLimit
from idp_mock.i18n import gettext as _

LOGIN_FAILED = "Неверный логин или пароль"
LOCKED = (
    "Учётная запись временно заблокирована из-за многочисленных неудачных попыток входа. "
    "Попробуйте снова через {minutes} мин."
)
ADDRESS_BLOCKED = (
    "Слишком много неудачных попыток входа с вашего адреса. Попробуйте снова через {minutes} мин."
)
SIGN_IN_AGAIN = "Войдите снова"
REGISTER_AGAIN = "Начните регистрацию заново"
CODE_WRONG = "Неверный код. Осталось попыток: {attempts}"
CODE_EXPIRED = "Срок действия кода истёк. Запросите новый код"
CODE_EXHAUSTED = "Попытки ввода кода исчерпаны."
CODE_MISSING = "Код не запрашивался. Запросите новый код"
CODE_COOLDOWN = "Новый код можно запросить через {seconds} с"
CODE_CAP = "Превышено число запросов кода. Попробуйте снова через {minutes} мин."


def minutes_until(moment: int, now: int) -> int:
    """Return whole minutes from now until the moment, rounded up, at least one."""
    return max(1, -(-(moment - now) // 60))


def login_error(outcome: LoginOutcome, *, now: int) -> str:
    """Word a refusal as ESIA does: remaining attempts, then the temporary lock."""
    if outcome.locked_until is not None:
        return _(LOCKED, minutes=minutes_until(outcome.locked_until, now))
    if outcome.attempts_left is not None:
        return f"{_(LOGIN_FAILED)}. {_('Осталось попыток')}: {outcome.attempts_left}"
    return _(LOGIN_FAILED)


def address_blocked(until: int, *, now: int) -> str:
    """Tell a throttled client address how long to wait."""
    return _(ADDRESS_BLOCKED, minutes=minutes_until(until, now))


def code_message(error: CodeError | CodeLimit, *, start_over: str) -> str:
    """Word a refused or unsendable code; `start_over` says what to do once none is left."""
    if isinstance(error, CodeLimit):
        if error.reason == "cooldown":
            return _(CODE_COOLDOWN, seconds=error.retry_in)
        if error.reason == "cap":
            return _(CODE_CAP, minutes=minutes_until(error.retry_in, 0))
    elif error.reason == "wrong":
        return _(CODE_WRONG, attempts=error.attempts_left)
    elif error.reason == "expired":
        return _(CODE_EXPIRED)
    elif error.reason == "missing":
        return _(CODE_MISSING)
    return f"{_(CODE_EXHAUSTED)} {_(start_over)}"
