"""Discovery: /.well-known/openid-configuration lists exactly what the provider does."""

from __future__ import annotations

import typing as t

import pytest
from authlib.oidc.discovery import OpenIDProviderMetadata
from flask import Flask
from flask.testing import FlaskClient

from tests.idp_mock.helpers import ISSUER


def test_discovery_document_is_valid_provider_metadata(idp: FlaskClient) -> None:
    response = idp.get("/.well-known/openid-configuration")

    assert response.status_code == 200
    metadata = OpenIDProviderMetadata(response.get_json())
    metadata.validate()
    assert metadata["issuer"] == ISSUER


def test_discovery_lists_only_what_is_supported(idp: FlaskClient) -> None:
    data = idp.get("/.well-known/openid-configuration").get_json()

    assert data["response_types_supported"] == ["code"]
    assert data["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(data["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert data["authorization_response_iss_parameter_supported"] is True
    assert set(data["scopes_supported"]) == {
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
    }
    assert data["backchannel_logout_supported"] is True
    assert data["backchannel_logout_session_supported"] is True
    assert data["ui_locales_supported"] == ["ru", "en"]
    for claim in ("sub", "amr", "birthdate", "phone_number", "account_level", "urn:esia:sbj"):
        assert claim in data["claims_supported"]


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
        ("end_session_endpoint", "/logout"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
    ],
)
def test_endpoints_sit_under_the_configured_issuer(idp: FlaskClient, key: str, path: str) -> None:
    data = idp.get("/.well-known/openid-configuration").get_json()

    assert data[key] == ISSUER + path


def test_issuer_is_used_byte_for_byte(make_idp: t.Callable[..., Flask]) -> None:
    app = make_idp(IDP_ISSUER="http://localhost:9000")

    data = app.test_client().get("/.well-known/openid-configuration").get_json()

    assert data["issuer"] == "http://localhost:9000"
    assert data["token_endpoint"] == "http://localhost:9000/token"


def test_issuer_with_trailing_slash_is_refused(make_idp: t.Callable[..., Flask]) -> None:
    with pytest.raises(ValueError, match="slash"):
        make_idp(IDP_ISSUER="http://127.0.0.1:9000/")
