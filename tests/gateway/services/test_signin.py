"""A sign-in opens a session with the provider's tokens sealed; refresh and sign-out use them."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from gateway.cache import MemoryCache
from gateway.extensions import db
from gateway.models import RoleKind
from gateway.models import StaffRole
from gateway.models import User
from gateway.models import UserSession
from gateway.runtime import services
from gateway.services import roles
from gateway.services import signin
from gateway.services.vault import Vault

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
ISSUER = "http://idp.test"
CLAIMS = {
    "sub": "parent-7",
    "sid": "provider-session-1",
    "family_name": "Смирнова",
    "given_name": "Ирина",
    "phone_number": "+79001234567",
    "account_level": "standard",
}
TOKEN = {
    "userinfo": CLAIMS,
    "refresh_token": "rt-1",
    "scope": "openid profile offline_access",
    "id_token": "id-token-1",
}


@pytest.fixture
def vault(app: Flask) -> Iterator[Vault]:
    """Hold an app context and yield the app's vault."""
    with app.app_context():
        yield services().vault


def _signed_in(vault: Vault, token: t.Mapping[str, t.Any] = TOKEN) -> signin.SignedIn:
    signed = signin.start_session(db.session, token=token, issuer=ISSUER, vault=vault, now=NOW)
    db.session.commit()
    return signed


def test_a_sign_in_records_the_person_and_seals_the_providers_tokens(vault: Vault) -> None:
    signed = _signed_in(vault)
    assert signed.user.subject == "parent-7" and signed.user.full_name == "Смирнова Ирина"
    record = db.session.get(UserSession, signed.record.id)
    assert record is not None and record.user_id == signed.user.id
    assert record.provider_sid == "provider-session-1"
    assert (
        record.provider_refresh_token is not None and b"rt-1" not in record.provider_refresh_token
    )
    assert vault.decrypt(record.provider_refresh_token) == {"rt": "rt-1", "scope": TOKEN["scope"]}
    assert record.id_token is not None and vault.decrypt(record.id_token) == {
        "id_token": "id-token-1"
    }


def test_a_sign_in_without_tokens_to_keep_keeps_none(vault: Vault) -> None:
    signed = _signed_in(vault, {"userinfo": CLAIMS})
    assert signed.record.provider_refresh_token is None and signed.record.id_token is None


def test_a_role_waiting_on_the_verified_phone_becomes_the_persons(vault: Vault) -> None:
    roles.grant(db.session, "+7 900 123-45-67", RoleKind.ADMIN, now=NOW)
    db.session.commit()
    signed = _signed_in(vault)
    [role] = db.session.scalars(select(StaffRole)).all()
    assert role.user_id == signed.user.id


def test_each_sign_in_opens_a_new_session_for_the_same_person(vault: Vault) -> None:
    first, second = _signed_in(vault), _signed_in(vault)
    assert first.user.id == second.user.id and first.record.id != second.record.id


class Provider:
    """Answers a refresh with new claims and (maybe) a rotated token; records what it got."""

    def __init__(self, rotated: str | None = "rt-2") -> None:
        """Rotate to ``rotated`` (None: keep the token)."""
        self.rotated = rotated
        self.asked: list[tuple[str, str | None]] = []

    def __call__(
        self, refresh_token: str, scope: str | None
    ) -> tuple[dict[str, t.Any], str | None]:
        """Return the profile as the provider now has it."""
        self.asked.append((refresh_token, scope))
        return {**CLAIMS, "account_level": "verified"}, self.rotated


def _refresh(vault: Vault, record: UserSession | None, provider: t.Any) -> bool:
    return signin.refresh_profile(
        db.session, record, refresh=provider, issuer=ISSUER, vault=vault, now=NOW
    )


def test_a_refresh_reads_the_new_level_and_keeps_the_rotated_token(vault: Vault) -> None:
    record = _signed_in(vault).record
    provider = Provider()
    assert _refresh(vault, record, provider) is True
    db.session.commit()
    assert provider.asked == [("rt-1", TOKEN["scope"])]
    user = db.session.scalar(select(User).where(User.subject == "parent-7"))
    assert user is not None and user.account_level == "verified"
    assert record.provider_refresh_token is not None
    assert vault.decrypt(record.provider_refresh_token)["rt"] == "rt-2"


def test_a_refresh_that_does_not_rotate_keeps_the_token(vault: Vault) -> None:
    record = _signed_in(vault).record
    assert _refresh(vault, record, Provider(rotated=None))
    assert record.provider_refresh_token is not None
    assert vault.decrypt(record.provider_refresh_token)["rt"] == "rt-1"


def test_without_a_refresh_token_that_opens_the_provider_is_not_asked(vault: Vault) -> None:
    provider = Provider()
    assert _refresh(vault, None, provider) is False
    bare = _signed_in(vault, {"userinfo": CLAIMS}).record
    assert _refresh(vault, bare, provider) is False
    retired = _signed_in(vault).record
    retired.provider_refresh_token = Vault([Fernet.generate_key().decode()]).encrypt({"rt": "x"})
    assert _refresh(vault, retired, provider) is False
    assert provider.asked == []


def test_a_refused_refresh_propagates_and_changes_nothing(vault: Vault) -> None:
    record = _signed_in(vault).record

    def refuse(refresh_token: str, scope: str | None) -> t.NoReturn:
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        _refresh(vault, record, refuse)
    assert record.provider_refresh_token is not None
    assert vault.decrypt(record.provider_refresh_token)["rt"] == "rt-1"


def test_signing_out_ends_the_session_and_hands_over_the_id_token_once(vault: Vault) -> None:
    signed = _signed_in(vault)
    found = signin.session_record(db.session, signed.record.id)
    assert found is signed.record
    ended = signin.end_session(
        db.session, found, user=signed.user, everywhere=False, vault=vault, now=NOW
    )
    db.session.commit()
    assert ended == "id-token-1" and signed.record.id_token is None
    assert signed.record.ended_reason == "logout"
    again = signin.end_session(db.session, found, user=None, everywhere=False, vault=vault, now=NOW)
    assert again is None


def test_signing_out_everywhere_ends_every_session_of_the_person(vault: Vault) -> None:
    first, second = _signed_in(vault), _signed_in(vault)
    signin.end_session(
        db.session, first.record, user=first.user, everywhere=True, vault=vault, now=NOW
    )
    db.session.commit()
    db.session.expire_all()  # ended in one UPDATE, past the objects in hand
    assert first.record.ended_reason == second.record.ended_reason == "everywhere"


def test_nobody_signed_in_ends_nothing_and_an_unknown_session_is_none(vault: Vault) -> None:
    signed = _signed_in(vault)
    signin.end_session(db.session, signed.record, user=None, everywhere=True, vault=vault, now=NOW)
    assert signed.record.ended_reason is None
    assert signin.session_record(db.session, "no-such-session") is None


def test_an_id_token_under_a_retired_key_is_dropped(vault: Vault) -> None:
    signed = _signed_in(vault)
    signed.record.id_token = Vault([Fernet.generate_key().decode()]).encrypt({"id_token": "x"})
    ended = signin.end_session(
        db.session, signed.record, user=signed.user, everywhere=False, vault=vault, now=NOW
    )
    assert ended is None and signed.record.id_token is None


def test_the_next_page_is_sealed_and_anything_else_opens_to_none(vault: Vault) -> None:
    sealed = signin.seal_next("/trusted/accept/secret-token", vault=vault)
    assert "secret-token" not in sealed
    assert signin.open_next(sealed, vault=vault) == "/trusted/accept/secret-token"
    assert signin.open_next(None, vault=vault) is None
    assert signin.open_next("not-sealed", vault=vault) is None
    assert signin.open_next(vault.encrypt({"other": 1}).decode(), vault=vault) is None


def test_a_logout_token_is_used_once() -> None:
    cache = MemoryCache()
    assert signin.first_use_of_logout_token("jti-1", cache=cache) is True
    assert signin.first_use_of_logout_token("jti-1", cache=cache) is False
    assert signin.first_use_of_logout_token("jti-2", cache=cache) is True
