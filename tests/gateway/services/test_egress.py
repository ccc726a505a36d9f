"""Backend addresses: public ones only, checked when registered and on every connection,
which goes only to the addresses checked."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server

from connectors.concurrency import pooled_session
from gateway.services import egress
from gateway.services import lifecycle
from gateway.services.instances import limited_session
from tests.support.live import serving
from tests.support.sockets import connections_before_a_probe
from tests.support.sockets import listening
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


def test_a_refused_address_never_gets_a_tcp_connection() -> None:
    """Not even the handshake reaches it: an open port and a filtered one look alike."""
    with listening() as inside:
        url = f"http://127.0.0.1:{inside.getsockname()[1]}/webapi/logindata"
        with pytest.raises(requests.ConnectionError):
            limited_session(4).get(url, timeout=5)
        assert connections_before_a_probe(inside) == 0
        with pytest.raises(requests.ReadTimeout):  # the same socket does count connections
            limited_session(4, guarded=False).get(url, timeout=(5, 0.01))
        assert connections_before_a_probe(inside) == 1


@pytest.mark.parametrize(
    "at_connect",
    [("127.0.0.1",), ("93.184.216.34", "127.0.0.1")],
    ids=["loopback", "loopback among public answers"],
)
def test_a_name_rebound_to_loopback_after_registration_is_never_connected_to(
    at_connect: tuple[str, ...],
) -> None:
    """DNS rebinding: the name resolved publicly when it was registered and resolves to
    the gateway's own host when called; the guard resolves it itself and stops there."""
    answers = iter([_resolver("93.184.216.34"), _resolver(*at_connect)])

    def rebinding(host: str, port: int, **kwargs: t.Any) -> list[tuple[t.Any, ...]]:
        return next(answers)(host, port, **kwargs)

    with listening() as inside:
        url = f"http://school.example.org:{inside.getsockname()[1]}/webapi/logindata"
        lifecycle.Policy(allow_private=False, resolve=rebinding).check(url, {})
        http = egress.guard(pooled_session(4), resolve=rebinding)
        with pytest.raises(requests.ConnectionError):
            http.get(url, timeout=5)
        assert connections_before_a_probe(inside) == 0


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("how", ["environment", "session"])
def test_a_proxy_does_not_carry_a_guarded_request_around_the_guard(
    monkeypatch: pytest.MonkeyPatch, scheme: str, how: str
) -> None:
    RequestCounter.counts.clear()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with serving(RequestCounter(_answer)) as proxy, listening() as inside:
        http = limited_session(4)
        if how == "environment":
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
                monkeypatch.setenv(name, proxy)
                monkeypatch.setenv(name.lower(), proxy)
        else:
            http.proxies = {"http": proxy, "https": proxy}
        with pytest.raises(requests.ConnectionError):
            http.get(f"{scheme}://127.0.0.1:{inside.getsockname()[1]}/webapi", timeout=5)
        assert connections_before_a_probe(inside) == 0
    assert RequestCounter.counts == {}  # the proxy was not asked either


def _certificate(
    name: str, *, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Return a certificate for ``name`` (a CA when there is no issuer) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_name, signer_key = issuer or (subject, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    return builder.sign(signer_key, hashes.SHA256()), key


@pytest.fixture
def tls_backend(tmp_path: Path) -> Iterator[tuple[int, Path, list[str | None], list[str]]]:
    """Serve HTTPS for school.example.org on loopback; yield the port, the CA's file, and
    the SNI names and Host headers it saw."""
    ca, ca_key = _certificate("Test CA")
    leaf, leaf_key = _certificate("school.example.org", issuer=(ca.subject, ca_key))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    names: list[str | None] = []
    hosts: list[str] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    context.sni_callback = lambda _sock, name, _context: names.append(name)

    def app(environ: dict[str, t.Any], start: t.Callable[..., t.Any]) -> list[bytes]:
        hosts.append(environ["HTTP_HOST"])
        return _answer(environ, start)

    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, tmp_path / "ca.pem", names, hosts
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def _to_loopback(host: str, port: int, **_: t.Any) -> list[tuple[t.Any, ...]]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


def test_tls_to_the_checked_address_is_verified_for_the_urls_host(
    tls_backend: tuple[int, Path, list[str | None], list[str]],
) -> None:
    """The socket goes to the address the guard checked; SNI, the certificate check and
    the Host header go by the name in the URL, and verification stays on."""
    port, ca, names, hosts = tls_backend
    http = egress.guard(pooled_session(4), resolve=_to_loopback, refuse=lambda _: False)
    reply = http.get(f"https://school.example.org:{port}/webapi", timeout=5, verify=str(ca))
    assert reply.status_code == 200
    assert names == ["school.example.org"] and hosts == [f"school.example.org:{port}"]
    with pytest.raises(requests.exceptions.SSLError):  # a certificate for another name
        http.get(f"https://other.example.org:{port}/webapi", timeout=5, verify=str(ca))
    with pytest.raises(requests.exceptions.SSLError):  # a CA the gateway does not trust
        http.get(f"https://school.example.org:{port}/webapi", timeout=5)


def test_a_name_that_does_not_resolve_when_called_fails_as_a_connection_error() -> None:
    http = egress.guard(pooled_session(4), resolve=_fails)
    with pytest.raises(requests.ConnectionError):
        http.get("http://school.example.org/webapi", timeout=5)


def test_the_next_checked_address_is_tried_when_one_does_not_answer() -> None:
    """As urllib3 tries each address a name has, the guarded connection does too."""
    with serving(_answer) as url:
        port = int(url.rsplit(":", 1)[1])
        resolve = _resolver("127.0.0.2", "127.0.0.1")  # nothing listens on 127.0.0.2
        http = egress.guard(pooled_session(4), resolve=resolve, refuse=lambda _: False)
        assert http.get(f"http://school.example.org:{port}/", timeout=5).status_code == 200
