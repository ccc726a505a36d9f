"""The vault encrypts credentials, never shows them, and rotates keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from connectors.base import Credentials
from gateway.services.vault import Vault
from gateway.services.vault import VaultError


def test_sealed_credentials_round_trip_and_hide_the_password() -> None:
    vault = Vault([Fernet.generate_key().decode()])
    sealed = vault.seal_credentials(Credentials("СмирноваИС", "Пароль-2026", school="Лицей № 3"))
    assert "Пароль".encode() not in sealed and b"2026" not in sealed
    opened = vault.open_credentials(sealed)
    assert opened == Credentials("СмирноваИС", "Пароль-2026", school="Лицей № 3")
    assert "Пароль" not in repr(opened)


def test_an_old_key_still_decrypts_after_rotation_to_a_new_primary() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Vault([old]).encrypt({"x": 1})
    rotated_vault = Vault([new, old])
    assert rotated_vault.decrypt(token) == {"x": 1}
    rotated = rotated_vault.rotate_token(token)
    assert Vault([new]).decrypt(rotated) == {"x": 1}
    with pytest.raises(VaultError):
        Vault([new]).decrypt(token)


def test_a_vault_without_keys_or_with_a_bad_key_refuses_to_start() -> None:
    with pytest.raises(ValueError):
        Vault([])
    with pytest.raises(ValueError, match="Fernet"):
        Vault(["not-a-key"])
