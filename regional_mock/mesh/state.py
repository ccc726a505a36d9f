"""In-memory, thread-safe sign-in state of the MESH emulator (login.mos.ru and school.mos.ru)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from regional_mock.records import Account


def jwt(payload: dict[str, object], key: bytes) -> str:
    """Return an HS256 JWT; clients only decode its payload for ``exp`` (note §1.8)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = part(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(signature)}"


@dataclass
class Flow:
    """One pending sign-in at login.mos.ru, bound to the ``sps_session`` cookie."""

    id: str
    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str | None
    proof_of_work: str
    account: Account | None = None
    stage: str = "password"  # password -> second_factor -> sms -> trust
    sms_expires_at: float = 0.0
    remain_attempts: int = 0


@dataclass
class Sms:
    """A text message the emulator «sent» (shown on the development outbox)."""

    phone: str
    code: str
    text: str
    sent_at: dt.datetime


@dataclass
class Grant:
    """An authorization code waiting at the redirect URI."""

    account: Account
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: float


@dataclass
class Token:
    """A MESH access token (``aupd_token``) or refresh token, with its account."""

    value: str
    account: Account
    expires_at: float


@dataclass
class MeshState:
    """Sign-in flows, SMS outbox, trusted devices, codes and tokens, guarded by one lock."""

    clock: Callable[[], float]
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    flows: dict[str, Flow] = field(default_factory=dict)
    outbox: list[Sms] = field(default_factory=list)
    devices: dict[str, str] = field(default_factory=dict)
    sso: dict[str, Token] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)
    mos_tokens: dict[str, Token] = field(default_factory=dict)
    access: dict[str, Token] = field(default_factory=dict)
    refresh: dict[str, Token] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    ticks: dict[tuple[int, int], bool] = field(default_factory=dict)

    def new_flow(self, **fields: object) -> Flow:
        """Start a pending sign-in."""
        flow = Flow(id=secrets.token_hex(16), **fields)  # type: ignore[arg-type]
        with self._lock:
            self.flows[flow.id] = flow
        return flow

    def flow(self, flow_id: str | None) -> Flow | None:
        """Return a pending sign-in."""
        with self._lock:
            return self.flows.get(flow_id or "")

    def drop_flow(self, flow_id: str) -> None:
        """Forget a pending sign-in (finished or killed)."""
        with self._lock:
            self.flows.pop(flow_id, None)

    def send_sms(self, phone: str, code: str) -> Sms:
        """Record a text message with a code in the outbox."""
        sms = Sms(
            phone=phone,
            code=code,
            text=f"Код для входа на mos.ru: {code}. Никому не сообщайте его.",
            sent_at=dt.datetime.now().replace(microsecond=0),
        )
        with self._lock:
            self.outbox.append(sms)
        return sms

    def fail(self, login: str) -> int:
        """Count a wrong password; return the failures so far."""
        with self._lock:
            self.failures[login] = self.failures.get(login, 0) + 1
            return self.failures[login]

    def succeed(self, login: str) -> None:
        """Forget a login's failures."""
        with self._lock:
            self.failures.pop(login, None)

    def trust_device(self, login: str) -> str:
        """Remember a browser the user chose to trust; return its cookie value."""
        device = secrets.token_urlsafe(24)
        with self._lock:
            self.devices[device] = login.casefold()
        return device

    def trusted(self, device: str | None, login: str) -> bool:
        """Tell whether a device cookie was trusted by this login."""
        with self._lock:
            return bool(device) and self.devices.get(device or "") == login.casefold()

    def open_sso(self, account: Account, seconds: float) -> Token:
        """Open the mos.ru SSO session (``Ltpatoken2``)."""
        token = Token(secrets.token_urlsafe(32), account, self.clock() + seconds)
        with self._lock:
            self.sso[token.value] = token
        return token

    def sso_session(self, value: str | None) -> Token | None:
        """Return a live SSO session."""
        with self._lock:
            token = self.sso.get(value or "")
        return token if token and self.clock() < token.expires_at else None

    def issue_code(self, account: Account, flow: Flow) -> str:
        """Issue an authorization code for the flow's client and redirect URI."""
        code = secrets.token_urlsafe(24)
        grant = Grant(account, flow.client_id, flow.redirect_uri, flow.code_challenge, 0.0)
        grant.expires_at = self.clock() + 300
        with self._lock:
            self.grants[code] = grant
        return code

    def take_code(self, code: str) -> Grant | None:
        """Return and forget a live authorization code."""
        with self._lock:
            grant = self.grants.pop(code, None)
        return grant if grant and self.clock() < grant.expires_at else None

    def register_client(self) -> tuple[str, str]:
        """Register a mobile OAuth client; return its id and secret."""
        client_id, secret = str(uuid.uuid4()), secrets.token_urlsafe(32)
        with self._lock:
            self.clients[client_id] = secret
        return client_id, secret

    def client_secret(self, client_id: str) -> str | None:
        """Return the secret of a registered client."""
        with self._lock:
            return self.clients.get(client_id)

    def issue_mos_token(self, account: Account, seconds: float, prefix: str = "") -> Token:
        """Issue a mos.ru token (mobile route); ``prefix`` keeps refresh tokens apart."""
        token = Token(secrets.token_urlsafe(32), account, self.clock() + seconds)
        with self._lock:
            self.mos_tokens[prefix + token.value] = token
        return token

    def mos_token(self, value: str) -> Token | None:
        """Return a live mos.ru access token."""
        with self._lock:
            token = self.mos_tokens.get(value)
        return token if token and self.clock() < token.expires_at else None

    def issue_mesh(
        self, account: Account, claims: dict[str, object], lifetimes: tuple[float, float]
    ) -> tuple[Token, Token]:
        """Issue an ``aupd_token`` JWT and its refresh token."""
        now = self.clock()
        access_seconds, refresh_seconds = lifetimes
        payload = {**claims, "iat": int(now), "nbf": int(now), "jti": str(uuid.uuid4())}
        access = Token(
            jwt({**payload, "exp": int(now + access_seconds)}, self.key),
            account,
            now + access_seconds,
        )
        refresh_payload = {**payload, "exp": int(now + refresh_seconds), "typ": "refresh"}
        refresh = Token(jwt(refresh_payload, self.key), account, now + refresh_seconds)
        with self._lock:
            self.access[access.value] = access
            self.refresh[refresh.value] = refresh
        return access, refresh

    def mesh_token(self, value: str) -> Token | None:
        """Return a live MESH access token."""
        with self._lock:
            token = self.access.get(value)
        return token if token and self.clock() < token.expires_at else None

    def take_refresh(self, value: str) -> Token | None:
        """Return and forget a live refresh token (each works once)."""
        with self._lock:
            token = self.refresh.pop(value, None)
        return token if token and self.clock() < token.expires_at else None

    def revoke(self, value: str) -> None:
        """End a MESH access token."""
        with self._lock:
            self.access.pop(value, None)

    def expire_all(self) -> int:
        """End every token and SSO session (fault ``expire_sessions``); return the count."""
        with self._lock:
            count = len(self.access) + len(self.sso)
            self.access.clear()
            self.refresh.clear()
            self.sso.clear()
            self.mos_tokens.clear()
            return count

    def set_done(self, student_id: int, homework_id: int, done: bool) -> None:
        """Tick or untick a homework for a student."""
        with self._lock:
            self.ticks[(student_id, homework_id)] = done

    def is_done(self, student_id: int, homework_id: int) -> bool | None:
        """Return the family's tick, or None when the family never ticked it."""
        with self._lock:
            return self.ticks.get((student_id, homework_id))
