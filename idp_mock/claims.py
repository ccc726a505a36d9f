"""Build a person's claims for a scope: standard OIDC first, ESIA-like extras beside them."""

from __future__ import annotations

import typing as t

from authlib.oauth2.rfc6749 import scope_to_list

from idp_mock.models import Person

# Standard OIDC scopes first, then the ESIA-like ones (esia-oidc.md §2.3) mapped onto them.
SCOPES_SUPPORTED = (
    "openid",
    "profile",
    "email",
    "phone",
    "offline_access",
    "fullname",
    "birthdate",
    "mobile",
    "snils",
    "id_doc",
)

SCOPE_TEXT = {
    "openid": "Подтвердить, что это вы (идентификатор учётной записи и её уровень)",
    "profile": "Фамилия, имя, отчество и дата рождения",
    "email": "Адрес электронной почты",
    "phone": "Номер мобильного телефона",
    "offline_access": "Доступ к данным, пока вы не на сайте (долгосрочный доступ)",
    "fullname": "Фамилия, имя и отчество",
    "birthdate": "Дата рождения",
    "mobile": "Номер мобильного телефона",
    "snils": "СНИЛС",
    "id_doc": "Данные паспорта гражданина РФ",
}

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
    "sid",
    "snils",
    "passport",
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
    if scopes & {"profile", "fullname"}:
        claims.update(name_claims(person))
    if scopes & {"profile", "birthdate"} and person.birthdate:
        claims["birthdate"] = person.birthdate.isoformat()
    if "email" in scopes and person.email:
        claims["email"] = person.email
        claims["email_verified"] = person.email_verified
    if scopes & {"phone", "mobile"} and person.phone:
        claims["phone_number"] = person.phone
        claims["phone_number_verified"] = person.phone_verified
    if "snils" in scopes and person.snils:
        claims["snils"] = format_snils(person.snils)
    if "id_doc" in scopes and person.passport_series and person.passport_number:
        claims["passport"] = passport_claim(person)
    return claims


def name_claims(person: Person) -> dict[str, t.Any]:
    """Return name, family_name, given_name and (when there is one) middle_name."""
    claims: dict[str, t.Any] = {
        "name": person.full_name,
        "family_name": person.family_name,
        "given_name": person.given_name,
    }
    if person.middle_name:
        claims["middle_name"] = person.middle_name
    return claims


def passport_claim(person: Person) -> dict[str, t.Any]:
    """Return the passport object of the id_doc scope (ESIA's RF_PASSPORT, in short)."""
    value: dict[str, t.Any] = {
        "type": "RF_PASSPORT",
        "series": person.passport_series,
        "number": person.passport_number,
    }
    if person.passport_issued_on:
        value["issue_date"] = person.passport_issued_on.isoformat()
    if person.passport_issuer_code:
        value["issuer_code"] = person.passport_issuer_code
    return value


def format_snils(digits: str) -> str:
    """Format 11 SNILS digits as XXX-XXX-XXX YY."""
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:11]}"
