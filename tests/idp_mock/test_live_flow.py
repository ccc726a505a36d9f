"""The whole code flow over real HTTP with authlib's own client, CSRF on as in production."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet

from idp_mock.browser import authorize_at_idp
from tests.idp_mock.helpers import CLIENT_ID
from tests.idp_mock.helpers import CLIENT_SECRET
from tests.idp_mock.helpers import REDIRECT_URI
from tests.idp_mock.helpers import SCOPE
from tests.support.live import serving
from tests.support.stack import free_port


def test_code_flow_over_http_with_authlib_client(make_idp: t.Callable[..., Flask]) -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    app = make_idp(IDP_ISSUER=issuer, WTF_CSRF_ENABLED=True)
    with serving(app, port=port) as url:
        assert url == issuer
        metadata = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
        rp = OAuth2Session(
            CLIENT_ID,
            CLIENT_SECRET,
            scope=SCOPE,
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
        )
        verifier = "v" * 20 + "-verifier-of-at-least-43-characters"
        authorize_url, state = rp.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce="live-nonce"
        )
        assert parse_qs(urlsplit(authorize_url).query)["code_challenge"] == [
            create_s256_code_challenge(verifier)
        ]

        callback = authorize_at_idp(authorize_url, "112-233-445 95", "parent-demo-1")
        answer = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
        assert answer["iss"] == issuer
        assert answer["state"] == state

        token = rp.fetch_token(
            metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
        id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": CLIENT_ID},
            nonce={"essential": True, "value": "live-nonce"},
            sub={"essential": True, "value": "1000000001"},
        ).validate(id_token.claims)
        assert id_token.header["kid"] == keys.keys[0].kid

        userinfo = rp.get(metadata["userinfo_endpoint"], timeout=10).json()
        assert userinfo["sub"] == id_token.claims["sub"]
        assert userinfo["phone_number"] == "+79000000001"
