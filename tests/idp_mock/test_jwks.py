"""JWKS: public RS256 keys with kids, persisted, and the ones ID tokens are signed with."""

from __future__ import annotations

import typing as t
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.idp_mock.helpers import tokens_for

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def test_jwks_publishes_public_rsa_keys_with_kid(idp: FlaskClient) -> None:
    keys = idp.get("/jwks").get_json()["keys"]

    assert len(keys) == 1
    (key,) = keys
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert key["kid"]
    assert not PRIVATE_MEMBERS & set(key)


def test_signing_key_survives_a_restart(make_idp: t.Callable[..., Flask], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'idp.sqlite3'}"

    first = make_idp(IDP_DATABASE_URL=url).test_client().get("/jwks").get_json()
    second = make_idp(IDP_DATABASE_URL=url).test_client().get("/jwks").get_json()

    assert first == second


def test_separate_databases_get_separate_keys(make_idp: t.Callable[..., Flask]) -> None:
    one = make_idp().test_client().get("/jwks").get_json()["keys"][0]["kid"]
    two = make_idp().test_client().get("/jwks").get_json()["keys"][0]["kid"]

    assert one != two


def test_id_token_names_the_published_kid_and_verifies(irina: FlaskClient) -> None:
    id_token = tokens_for(irina)["id_token"]
    key_set = KeySet.import_key_set(irina.get("/jwks").get_json())

    header = jws.extract_compact(id_token.encode()).protected
    decoded = jwt.decode(id_token, key_set, algorithms=["RS256"])

    assert header["alg"] == "RS256"
    assert header["kid"] == key_set.keys[0].kid
    assert decoded.claims["sub"] == "1000000001"
