"""In-memory, thread-safe sign-in state of the NetSchool emulator."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from regional_mock.lockout import Lockout
from regional_mock.records import Account

MOBILE_TOKEN_SECONDS = 60 * 24 * 3600  # the mobile token lives 60 days (note §1.10)
PINCODE_SECONDS = 300


def digits(count: int) -> str:
    """Return a random string of ``count`` digits that does not start with 0."""
    return str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(count - 1)
    )


@dataclass
class Challenge:
    """The ``auth/getdata`` answer a login must echo; the salt is good for one attempt."""

    lt: str
    ver: str
    salt: str


@dataclass
class WebSession:
    """A signed-in web session, found by its ``at`` and bound to the NSSESSIONID cookie."""

    at: str
    account: Account
    cookie: str
    login_time: dt.datetime
    last_seen: float


@dataclass
class MobileToken:
    """A bearer token of the mobile API."""

    access_token: str
    refresh_token: str
    account: Account
    expires_at: float


@dataclass
class SignInState:
    """Challenges, sessions, lockouts, pincodes and mobile tokens, guarded by one lock."""

    timeout_ms: int
    clock: Callable[[], float]
    lockout_attempts: int = 3
    lockout_seconds: float = 60.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _challenges: dict[str, Challenge] = field(default_factory=dict)
    _sessions: dict[str, WebSession] = field(default_factory=dict)
    _pincodes: dict[str, tuple[Account, float]] = field(default_factory=dict)
    _tokens: dict[str, MobileToken] = field(default_factory=dict)
    _passwords: dict[str, str] = field(default_factory=dict)

    def password_of(self, account: Account) -> str:
        """Return the account's password: the world's, unless the school changed it."""
        with self._lock:
            return self._passwords.get(account.login, account.password)

    def change_password(self, account: Account, password: str) -> int:
        """Change a password as a school would; the account's sessions end. Return how many."""
        with self._lock:
            self._passwords[account.login] = password
            ended = [at for at, s in self._sessions.items() if s.account.login == account.login]
            for at in ended:
                del self._sessions[at]
            tokens = [k for k, v in self._tokens.items() if v.account.login == account.login]
            for key in tokens:
                del self._tokens[key]
            return len(ended) + len(tokens)

    def new_challenge(self) -> Challenge:
        """Issue a fresh ``lt``/``ver``/``salt``."""
        challenge = Challenge(lt=digits(9), ver=digits(9), salt=digits(10))
        with self._lock:
            self._challenges[challenge.lt] = challenge
        return challenge

    def take_challenge(self, lt: str) -> Challenge | None:
        """Return and forget the challenge issued with ``lt``."""
        with self._lock:
            return self._challenges.pop(lt, None)

    def __post_init__(self) -> None:
        """Count wrong passwords with the shared lockout."""
        self._lockout = Lockout(self.lockout_attempts, self.lockout_seconds, self.clock)

    def locked(self, key: str) -> bool:
        """Tell whether a login is locked after too many failures."""
        return self._lockout.locked(key)

    def fail(self, key: str) -> int:
        """Count a failed password; return the attempts left (0: the login is now locked)."""
        return self._lockout.fail(key)

    def succeed(self, key: str) -> None:
        """Forget the failed attempts of a login."""
        self._lockout.succeed(key)

    def open_session(self, account: Account, cookie: str) -> WebSession:
        """Start a web session bound to a cookie."""
        session = WebSession(
            at=digits(26),
            account=account,
            cookie=cookie,
            login_time=dt.datetime.now(),
            last_seen=self.clock(),
        )
        with self._lock:
            self._sessions[session.at] = session
        return session

    def session(self, at: str, *, touch: bool = True) -> WebSession | None:
        """Return the live session of ``at``, extending its idle timeout when ``touch``."""
        now = self.clock()
        with self._lock:
            session = self._sessions.get(at)
            if session is None:
                return None
            if (now - session.last_seen) * 1000 > self.timeout_ms:
                del self._sessions[at]
                return None
            if touch:
                session.last_seen = now
            return session

    def close(self, at: str) -> None:
        """End a web session."""
        with self._lock:
            self._sessions.pop(at, None)

    def expire_all(self) -> int:
        """End every web session and mobile token; return how many ended."""
        with self._lock:
            count = len(self._sessions) + len(self._tokens)
            self._sessions.clear()
            self._tokens.clear()
            return count

    def new_pincode(self, account: Account) -> str:
        """Issue the one-time code the mobile app exchanges for a token."""
        code = digits(8)
        with self._lock:
            self._pincodes[code] = (account, self.clock() + PINCODE_SECONDS)
        return code

    def take_pincode(self, code: str) -> Account | None:
        """Return and forget the account of a pincode that has not expired."""
        with self._lock:
            account, expires_at = self._pincodes.pop(code, (None, 0.0))
        return account if account is not None and self.clock() < expires_at else None

    def issue_token(self, account: Account) -> MobileToken:
        """Issue a mobile bearer token."""
        token = MobileToken(
            access_token=secrets.token_urlsafe(32),
            refresh_token=secrets.token_urlsafe(32),
            account=account,
            expires_at=self.clock() + MOBILE_TOKEN_SECONDS,
        )
        with self._lock:
            self._tokens[token.access_token] = token
        return token

    def bearer(self, access_token: str) -> MobileToken | None:
        """Return the live token of an access token."""
        with self._lock:
            token = self._tokens.get(access_token)
        return token if token is not None and self.clock() < token.expires_at else None

    def refresh(self, refresh_token: str) -> MobileToken | None:
        """Replace the token that has ``refresh_token``; None when there is none."""
        with self._lock:
            found = next(
                (x for x in self._tokens.values() if x.refresh_token == refresh_token), None
            )
            if found is not None:
                del self._tokens[found.access_token]
        return self.issue_token(found.account) if found is not None else None
