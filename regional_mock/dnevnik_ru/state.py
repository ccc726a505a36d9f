"""In-memory, thread-safe sign-in state of the Dnevnik.ru emulator: cookies, codes, tokens."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from regional_mock.lockout import Lockout
from regional_mock.records import Account


@dataclass
class Grant:
    """An authorization code waiting to be exchanged at the token endpoint."""

    code: str
    client_id: str
    redirect_uri: str | None
    scope: tuple[str, ...]
    account: Account
    expires_at: float
    used: bool = False
    issued: list[str] = field(default_factory=list)


@dataclass
class Token:
    """An access token (32 characters, as SchoolMosregRuAPI's regex expects) and its refresh."""

    access_token: str
    refresh_token: str | None
    account: Account
    scope: tuple[str, ...]
    client_id: str
    expires_at: float
    lifetime: int


@dataclass
class SignInState:
    """Web sessions, authorization codes, tokens and lockouts, guarded by one lock."""

    clock: Callable[[], float]
    token_seconds: int
    code_seconds: int
    lockout_attempts: int = 5
    lockout_seconds: float = 300.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _web: dict[str, Account] = field(default_factory=dict)
    _grants: dict[str, Grant] = field(default_factory=dict)
    _tokens: dict[str, Token] = field(default_factory=dict)

    def open_web_session(self, account: Account) -> str:
        """Start a login.dnevnik.ru session; return its ``DnevnikAuth_a`` cookie value."""
        cookie = secrets.token_hex(24)
        with self._lock:
            self._web[cookie] = account
        return cookie

    def web_account(self, cookie: str) -> Account | None:
        """Return the account signed in with a cookie."""
        with self._lock:
            return self._web.get(cookie)

    def new_grant(
        self, account: Account, client_id: str, redirect_uri: str | None, scope: tuple[str, ...]
    ) -> Grant:
        """Issue a one-time authorization code."""
        grant = Grant(
            code=secrets.token_urlsafe(24),
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            account=account,
            expires_at=self.clock() + self.code_seconds,
        )
        with self._lock:
            self._grants[grant.code] = grant
        return grant

    def take_grant(self, code: str) -> tuple[Grant | None, bool]:
        """Return ``(grant, fresh)``; a reused code revokes the tokens it gave (RFC 6749 4.1.2)."""
        with self._lock:
            grant = self._grants.get(code)
            if grant is None or self.clock() >= grant.expires_at:
                return None, False
            if grant.used:
                for access in grant.issued:
                    self._tokens.pop(access, None)
                return grant, False
            grant.used = True
            return grant, True

    def issue(
        self,
        account: Account,
        scope: tuple[str, ...],
        client_id: str,
        *,
        refresh: bool = True,
        grant: Grant | None = None,
    ) -> Token:
        """Issue an access token (with a refresh token unless ``refresh`` is False)."""
        token = Token(
            access_token=secrets.token_hex(16),
            refresh_token=secrets.token_hex(16) if refresh else None,
            account=account,
            scope=scope,
            client_id=client_id,
            expires_at=self.clock() + self.token_seconds,
            lifetime=self.token_seconds,
        )
        with self._lock:
            self._tokens[token.access_token] = token
            if grant is not None:
                grant.issued.append(token.access_token)
        return token

    def token(self, access_token: str) -> tuple[Token | None, bool]:
        """Return ``(token, alive)``: a known token past its lifetime is not alive."""
        with self._lock:
            token = self._tokens.get(access_token)
        if token is None:
            return None, False
        return token, self.clock() < token.expires_at

    def refresh(self, refresh_token: str, client_id: str) -> Token | None:
        """Replace the token that has ``refresh_token`` for ``client_id``; None if none."""
        with self._lock:
            found = next(
                (
                    x
                    for x in self._tokens.values()
                    if x.refresh_token == refresh_token and x.client_id == client_id
                ),
                None,
            )
            if found is not None:
                del self._tokens[found.access_token]
        if found is None:
            return None
        return self.issue(found.account, found.scope, client_id)

    def __post_init__(self) -> None:
        """Count wrong passwords with the shared lockout."""
        self._lockout = Lockout(self.lockout_attempts, self.lockout_seconds, self.clock)

    def locked(self, login: str) -> bool:
        """Tell whether a login is locked after too many failures."""
        return self._lockout.locked(login.casefold())

    def fail(self, login: str) -> int:
        """Count a failed password; return the attempts left (0: the login is now locked)."""
        return self._lockout.fail(login.casefold())

    def succeed(self, login: str) -> None:
        """Forget the failed attempts of a login."""
        self._lockout.succeed(login.casefold())

    def expire_all(self) -> int:
        """End every web session and token; return how many ended."""
        with self._lock:
            count = len(self._web) + len(self._tokens)
            self._web.clear()
            self._tokens.clear()
            return count
