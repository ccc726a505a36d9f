"""RFC 3161 timestamps of checkpoints: a timestamping authority's word that a checkpoint
existed by its ``genTime``, checked against the authority's root certificate."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from rfc3161_client import VerificationError
from rfc3161_client import VerifierBuilder
from rfc3161_client import decode_timestamp_response


class TimestampError(ValueError):
    """The timestamp does not read, is not of this checkpoint, or no trusted root issued it."""


def verify(note: str, encoded: str, roots: Sequence[x509.Certificate]) -> dt.datetime:
    """Check a base64 ``TimeStampResp`` over a checkpoint's text; return its ``genTime``.

    :raise TimestampError: it fails.
    """
    try:
        answer = decode_timestamp_response(base64.b64decode(encoded, validate=True))
    except (ValueError, binascii.Error) as err:
        raise TimestampError("the timestamp does not read") from err
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(answer, note.encode())
    except VerificationError as err:
        raise TimestampError(f"the timestamp does not verify: {err}") from err
    return answer.tst_info.gen_time


def load_roots(pem: bytes) -> list[x509.Certificate]:
    """Read the authority's root certificates from PEM.

    :raise TimestampError: there are none.
    """
    try:
        roots = x509.load_pem_x509_certificates(pem)
    except ValueError as err:
        raise TimestampError("the root certificate file does not read (PEM)") from err
    return roots
