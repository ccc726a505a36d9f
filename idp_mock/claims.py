"""Build a person's claims for a scope: standard OIDC first, ESIA-like extras beside them."""

from __future__ import annotations

import typing as t

from authlib.oauth2.rfc6749 import scope_to_list

from idp_mock.models import Person

SCOPES_SUPPORTED = ("openid", "profile", "email", "phone")

# The ESIA subject object; lvl "PR" marks a confirmed account, "P" any other (esia-oidc.md §2.1).
ESIA_SUBJECT = "urn:esia:sbj"

CLAIMS_SUPPORTED = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "birthdate",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "account_level",
    ESIA_SUBJECT,
)


def subject(person: Person) -> str:
    """Return the stable `sub`: the ESIA oid as a string (real ESIA sends an integer)."""
    return str(person.oid)


def esia_subject(person: Person) -> dict[str, t.Any]:
    """Return the `urn:esia:sbj` object for the person."""
    confirmed = person.level == "confirmed"
    value: dict[str, t.Any] = {
        "urn:esia:sbj:typ": "P",
        "urn:esia:sbj:oid": person.oid,
        "urn:esia:sbj:lvl": "PR" if confirmed else "P",
    }
    if confirmed:
        value["urn:esia:sbj:is_tru"] = True
    return value


def person_claims(person: Person, scope: str) -> dict[str, t.Any]:
    """Return the person's claims that the granted scope releases."""
    scopes = set(scope_to_list(scope) or [])
    claims: dict[str, t.Any] = {
        "sub": subject(person),
        "account_level": person.level,
        ESIA_SUBJECT: esia_subject(person),
    }
    if "profile" in scopes:
        claims.update(profile_claims(person))
    if "email" in scopes and person.email:
        claims["email"] = person.email
        claims["email_verified"] = person.email_verified
    if "phone" in scopes and person.phone:
        claims["phone_number"] = person.phone
        claims["phone_number_verified"] = person.phone_verified
    return claims


def profile_claims(person: Person) -> dict[str, t.Any]:
    """Return the `profile` scope's claims that the person has."""
    claims: dict[str, t.Any] = {
        "name": person.full_name,
        "family_name": person.family_name,
        "given_name": person.given_name,
    }
    if person.middle_name:
        claims["middle_name"] = person.middle_name
    if person.birthdate:
        claims["birthdate"] = person.birthdate.isoformat()
    return claims
