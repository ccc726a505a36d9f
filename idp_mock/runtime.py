"""Hold what every endpoint needs, and find it on the current app."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field

import requests
from flask import current_app

from idp_mock.accounts import LockoutPolicy
from idp_mock.clients import ClientRegistry
from idp_mock.codes import CodePolicy
from idp_mock.faults import FaultSwitch
from idp_mock.keys import KeyStore
from idp_mock.throttle import AddressPolicy
from idp_mock.tokens import Signer

EXTENSION = "idp_mock"


@dataclass(frozen=True, kw_only=True)
class Provider:
    """Hold the issuer, lifetimes, keys, clients, the signer and the fault switch."""

    issuer: str
    token_ttl: int
    keys: KeyStore
    clients: ClientRegistry
    signer: Signer
    faults: FaultSwitch
    refresh_ttl: int = 30 * 24 * 3600
    backchannel_timeout: float = 2.0
    http: requests.Session = field(default_factory=requests.Session, repr=False)


def provider() -> Provider:
    """Return the provider of the current app."""
    return t.cast(Provider, current_app.extensions[EXTENSION])


@dataclass(frozen=True, kw_only=True)
class AccountRules:
    """Hold the person-facing policies: lockouts, codes, the level check and the dev pages."""

    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    addresses: AddressPolicy = field(default_factory=AddressPolicy)
    codes: CodePolicy = field(default_factory=CodePolicy)
    level_check_seconds: int = 5
    known_bad_snils: frozenset[str] = frozenset()
    known_bad_passports: frozenset[str] = frozenset()
    dev_pages: bool = True


def rules() -> AccountRules:
    """Return the account rules of the current app."""
    return t.cast(AccountRules, current_app.extensions[EXTENSION + ".rules"])
