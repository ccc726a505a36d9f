"""Backend addresses: public ones only, checked when registered and on every connection."""

from __future__ import annotations

import socket
import typing as t

import pytest
import requests

from gateway.services import egress
from gateway.services.instances import limited_session
from tests.support.live import serving
from tests.support.stack import RequestCounter

REFUSED = {
    "IPv4 loopback": "127.0.0.1",
    "IPv4 loopback, elsewhere in 127/8": "127.8.9.10",
    "IPv6 loopback": "::1",
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.16.0.1",
    "private 192.168/16": "192.168.1.1",
    "carrier-grade NAT 100.64/10": "100.64.0.1",
    "link-local (cloud metadata)": "169.254.169.254",
    "IPv6 link-local": "fe80::1",
    "IPv6 link-local with a zone": "fe80::1%eth0",
    "IPv6 unique local": "fd00::1",
    "IPv4 multicast": "224.0.0.1",
    "IPv6 multicast": "ff02::1",
    "reserved 240/4": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "IPv4 unspecified": "0.0.0.0",
    "IPv6 unspecified": "::",
    "IPv4 documentation": "192.0.2.10",
    "IPv6 documentation": "2001:db8::1",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "IPv4-mapped private": "::ffff:192.168.0.1",
    "6to4 of loopback": "2002:7f00:1::1",
}
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4010:c0d::64"]


@pytest.mark.parametrize("address", REFUSED.values(), ids=list(REFUSED))
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert egress.forbidden(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not egress.forbidden(address)


def _resolver(*addresses: str) -> egress.Resolve:
    def resolve(host: str, port: int, **_: t.Any) -> list[tuple[t.Any, ...]]:
        family = socket.AF_INET6 if any(":" in a for a in addresses) else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


def _fails(host: str, port: int, **_: t.Any) -> list[tuple[t.Any, ...]]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.mark.parametrize(
    "resolve",
    [_resolver("10.0.0.5"), _resolver("93.184.216.34", "127.0.0.1"), _resolver("::1"), _fails],
    ids=["a private answer", "one private answer among public ones", "IPv6 loopback", "no answer"],
)
def test_a_name_that_resolves_privately_or_not_at_all_is_refused(
    resolve: egress.Resolve,
) -> None:
    with pytest.raises(egress.RefusedAddress):
        egress.check_url("https://school.example.org/api", resolve=resolve)


def test_a_name_that_resolves_publicly_is_accepted() -> None:
    egress.check_url("https://school.example.org/api", resolve=_resolver("93.184.216.34"))


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:9103",
        "http://127.1/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:8000/",
        "http://169.254.169.254/latest/meta-data/",
        "http:///no-host",
    ],
)
def test_every_spelling_of_an_internal_address_is_refused(url: str) -> None:
    with pytest.raises(egress.RefusedAddress):
        egress.check_url(url)


def test_settings_that_are_urls_are_checked_as_well() -> None:
    urls = egress.urls_in("https://school.example", {"identity_url": "http://10.0.0.1", "x": 5})
    assert urls == ["https://school.example", "http://10.0.0.1"]


def _answer(environ: dict[str, t.Any], start: t.Callable[..., t.Any]) -> list[bytes]:
    start("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


def test_every_connection_is_checked_where_it_lands_whatever_dns_said() -> None:
    """DNS rebinding: a name checked as public may resolve to loopback by the time of the
    call; the guarded session looks at the address it actually connected to."""
    RequestCounter.counts.clear()
    backend = RequestCounter(_answer)
    with serving(backend) as url:
        with pytest.raises(requests.ConnectionError):
            limited_session(4).get(f"{url}/webapi/logindata", timeout=5)
        assert RequestCounter.counts == {}  # refused before a byte of the request was sent
        allowed = limited_session(4, guarded=False).get(f"{url}/webapi/logindata", timeout=5)
    assert allowed.status_code == 200
