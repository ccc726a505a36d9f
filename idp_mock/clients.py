"""Describe the relying parties registered at the provider, read from settings."""

from __future__ import annotations

import secrets
import typing as t
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import scope_to_list

AUTH_METHODS = ("client_secret_basic", "client_secret_post")

DEMO_GATEWAY_URL = "http://127.0.0.1:8000"


def demo_client(
    base_url: str = DEMO_GATEWAY_URL,
    *,
    client_id: str = "diary-gateway",
    client_secret: str = "demo-gateway-secret",
) -> dict[str, t.Any]:
    """Return the gateway's demo registration, its URIs under the gateway's public URL."""
    base_url = base_url.rstrip("/")
    return {
        "client_id": client_id,
        "client_name": "Дневник: шлюз для родителей",
        "client_secret": client_secret,
        "redirect_uris": [base_url + "/auth/callback"],
        "post_logout_redirect_uris": [base_url + "/auth/logged-out"],
        "backchannel_logout_uri": base_url + "/auth/backchannel-logout",
        # offline_access lets the gateway ask for refresh tokens; the ESIA-like scopes too.
        "scope": "openid profile email phone offline_access fullname birthdate mobile snils id_doc",
        "token_endpoint_auth_method": "client_secret_basic",
    }


DEMO_CLIENT: dict[str, t.Any] = demo_client()


@dataclass(frozen=True)
class RegisteredClient(ClientMixin):  # type: ignore[misc]  # authlib is untyped
    """Implement authlib's client model over one settings entry."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    scope: str = "openid"
    token_endpoint_auth_method: str = "client_secret_basic"
    client_name: str = ""
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False
    client_metadata: Mapping[str, t.Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, entry: Mapping[str, t.Any]) -> RegisteredClient:
        """Validate one IDP_CLIENTS entry and build the client.

        Raises:
            ValueError: on a missing secret or an unsupported authentication method.
        """
        method = entry.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in AUTH_METHODS:
            raise ValueError(f"unsupported token_endpoint_auth_method {method!r}")
        if not entry.get("client_secret"):
            raise ValueError(f"client {entry.get('client_id')!r} has no client_secret")
        metadata = {
            "redirect_uris": list(entry["redirect_uris"]),
            "post_logout_redirect_uris": list(entry.get("post_logout_redirect_uris", [])),
            "token_endpoint_auth_method": method,
            "backchannel_logout_uri": entry.get("backchannel_logout_uri"),
            "backchannel_logout_session_required": bool(
                entry.get("backchannel_logout_session_required", False)
            ),
        }
        return cls(
            client_id=entry["client_id"],
            client_secret=entry["client_secret"],
            redirect_uris=tuple(entry["redirect_uris"]),
            post_logout_redirect_uris=tuple(entry.get("post_logout_redirect_uris", ())),
            scope=entry.get("scope", "openid"),
            token_endpoint_auth_method=method,
            client_name=entry.get("client_name") or entry["client_id"],
            backchannel_logout_uri=metadata["backchannel_logout_uri"],
            backchannel_logout_session_required=metadata["backchannel_logout_session_required"],
            client_metadata=metadata,
        )

    def get_client_id(self) -> str:
        """Return the client_id."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """Return no default: every request must name its redirect URI."""
        return None

    def get_allowed_scope(self, scope: str) -> str:
        """Keep only the requested scopes this client is registered for."""
        allowed = set(scope_to_list(self.scope))
        return " ".join(s for s in scope_to_list(scope) or [] if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Match the redirect URI exactly (RFC 9700 §2.1)."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare the secret in constant time."""
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Accept only the authentication method the client registered."""
        return endpoint != "token" or method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        """Allow the code flow only."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Allow the authorization code grant and refreshing what it issued."""
        return grant_type in ("authorization_code", "refresh_token")


class ClientRegistry:
    """Look up registered clients by client_id."""

    def __init__(self, clients: Iterable[RegisteredClient]) -> None:
        self._clients = {client.client_id: client for client in clients}

    @classmethod
    def from_settings(cls, entries: Iterable[Mapping[str, t.Any]]) -> ClientRegistry:
        """Build the registry from the IDP_CLIENTS setting."""
        return cls(RegisteredClient.from_settings(entry) for entry in entries)

    def get(self, client_id: str | None) -> RegisteredClient | None:
        """Return the client, or None when it is not registered."""
        return self._clients.get(client_id or "")
