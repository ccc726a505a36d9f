"""RFC 9207: the authorization response must name the issuer we started sign-in with."""

from __future__ import annotations

import pytest

from gateway.auth.oidc import SignInError
from gateway.auth.oidc import check_issuer_parameter

ISSUER = "http://esia.example/"
ADVERTISED = {"issuer": ISSUER, "authorization_response_iss_parameter_supported": True}


def test_a_matching_issuer_is_accepted() -> None:
    check_issuer_parameter({"iss": ISSUER}, ADVERTISED)


@pytest.mark.parametrize("iss", ["http://esia.example", "https://esia.example/", "http://evil/"])
def test_an_issuer_that_differs_by_even_a_byte_is_rejected(iss: str) -> None:
    with pytest.raises(SignInError, match="another issuer"):
        check_issuer_parameter({"iss": iss}, ADVERTISED)


def test_a_missing_issuer_is_rejected_when_the_provider_advertises_it() -> None:
    with pytest.raises(SignInError, match="no iss"):
        check_issuer_parameter({}, ADVERTISED)


def test_a_missing_issuer_is_tolerated_when_the_provider_does_not_support_it() -> None:
    check_issuer_parameter({}, {"issuer": ISSUER})
