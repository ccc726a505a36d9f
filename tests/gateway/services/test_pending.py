"""A link waiting for its code is sealed in the cache, for its own parent only."""

from __future__ import annotations

import dataclasses

from cryptography.fernet import Fernet

from connectors.base import Credentials
from gateway.cache import MemoryCache
from gateway.services.pending import PendingLink
from gateway.services.pending import PendingLinks
from gateway.services.vault import Vault

WAITING = PendingLink(
    user_id=7,
    instance_key="samara-netschool",
    credentials=Credentials("СмирноваИС", "Пароль-2026", school="Лицей № 3"),
    challenge={"login": "СмирноваИС", "left": 3},
    destination="+7 900 ***-**-01",
    display_name="Маша",
)


def _vault() -> Vault:
    return Vault([Fernet.generate_key().decode()])


def test_a_waiting_link_comes_back_whole_and_the_cache_never_sees_the_password() -> None:
    cache = MemoryCache()
    links = PendingLinks(cache=cache, vault=_vault())
    token = links.put(WAITING)
    assert links.get(token, user_id=7) == WAITING
    stored = cache.get(f"pending-link:{token}")
    assert stored is not None and "Пароль" not in stored and "СмирноваИС" not in stored


def test_another_person_an_unknown_token_or_another_key_find_nothing() -> None:
    cache = MemoryCache()
    token = PendingLinks(cache=cache, vault=_vault()).put(WAITING)
    assert (
        PendingLinks(cache=cache, vault=_vault()).get(token, user_id=7) is None
    )  # a key that is gone
    links = PendingLinks(cache=cache, vault=_vault())
    token = links.put(WAITING)
    assert links.get(token, user_id=8) is None
    assert links.get("made-up", user_id=7) is None


def test_a_link_is_replaced_under_its_token_and_dropped() -> None:
    links = PendingLinks(cache=MemoryCache(), vault=_vault())
    token = links.put(WAITING)
    kept = dataclasses.replace(WAITING, challenge={"left": 2}, display_name="Петя")
    assert links.put(kept, token) == token
    assert links.get(token, user_id=7) == kept
    links.drop(token)
    assert links.get(token, user_id=7) is None
