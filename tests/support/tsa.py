"""A timestamping authority for the tests: OpenSSL's ``ts -reply`` behind an HTTP endpoint.

It answers RFC 3161 queries (``application/timestamp-query``) with a token signed by its own
certificate (extended key usage timeStamping, critical), issued by a root the test hands to
the verifier. ``fail`` makes it answer 503; ``stamp_other`` makes it stamp other data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID
from rfc3161_client import HashAlgorithm
from rfc3161_client import TimestampRequestBuilder
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from tests.support.live import serving
from tests.support.live import unavailable

CONFIG = """\
[ tsa ]
default_tsa = stamp
[ stamp ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclasses.dataclass
class Authority:
    """The running authority: its URL, its root's PEM, and its switches."""

    url: str
    root_pem: Path
    folder: Path
    fail: bool = False
    stamp_other: bool = False
    answered: int = 0

    def root(self) -> x509.Certificate:
        """Return the root certificate."""
        return x509.load_pem_x509_certificate(self.root_pem.read_bytes())

    def reply(self, query: bytes) -> bytes:
        """Return OpenSSL's timestamp reply to a query."""
        if self.stamp_other:
            other = TimestampRequestBuilder().data(b"something else")
            query = other.hash_algorithm(HashAlgorithm.SHA256).build().as_bytes()
        done = subprocess.run(
            [
                "openssl",
                "ts",
                "-reply",
                "-config",
                str(self.folder / "ts.cnf"),
                "-queryfile",
                "/dev/stdin",
                "-out",
                "/dev/stdout",
            ],
            input=query,
            capture_output=True,
            check=True,
        )
        return done.stdout


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificates(folder: Path) -> None:
    """Write a root and the authority's certificate issued by it (EC P-256)."""
    now = dt.datetime.now(dt.UTC)
    root_key, tsa_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Test TSA Root"))
        .issuer_name(_name("Test TSA Root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Test TSA"))
        .issuer_name(root.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    (folder / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.key").write_bytes(
        tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "serial").write_text("01\n")
    (folder / "ts.cnf").write_text(CONFIG.format(folder=folder))


@pytest.fixture
def tsa() -> Iterator[Authority]:
    """Run a timestamping authority on loopback for one test."""
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed (apt-get install openssl)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        make_certificates(folder)
        authority = Authority(url="", root_pem=folder / "root.pem", folder=folder)

        @Request.application
        def app(request: Request) -> Response:
            if authority.fail:
                return Response("down", status=503)
            if request.content_type != "application/timestamp-query":
                return Response("a timestamp query, please", status=415)
            authority.answered += 1
            reply = authority.reply(request.get_data())
            return Response(reply, content_type="application/timestamp-reply")

        with serving(app) as url:
            authority.url = url
            yield authority
