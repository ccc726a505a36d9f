"""RFC 3161 timestamps on the log's checkpoints, when a timestamping authority is configured.

A checkpoint's own ``signed-at`` line is the gateway's word; a timestamp is a third party's
signature that the checkpoint existed by then, so a log cannot be rebuilt later and
backdated. The authority's answer (a ``TimeStampResp``) is kept whole with the checkpoint
and goes into every proof bundle of it; ``verifier.timestamp`` checks it against the
authority's root certificate.
"""

from __future__ import annotations

import base64
import hashlib

import requests
from rfc3161_client import HashAlgorithm
from rfc3161_client import PKIStatus
from rfc3161_client import TimestampRequestBuilder
from rfc3161_client import decode_timestamp_response
from sqlalchemy.orm import Session

from gateway.models import LedgerCheckpoint
from gateway.services import ledger

QUERY = "application/timestamp-query"


class TimestampFailed(RuntimeError):
    """The authority did not answer with a timestamp of this checkpoint."""


def request_timestamp(note: str, *, url: str, http: requests.Session, timeout: float) -> bytes:
    """Return the authority's timestamp of a checkpoint's text (its DER ``TimeStampResp``).

    :raise TimestampFailed: no answer, a refusal, or a timestamp of something else.
    """
    data = note.encode()
    query = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    try:
        reply = http.post(
            url, data=query.as_bytes(), headers={"Content-Type": QUERY}, timeout=timeout
        )
    except requests.RequestException as err:
        raise TimestampFailed(f"the timestamping authority did not answer ({err})") from err
    if reply.status_code != 200:
        raise TimestampFailed(f"the timestamping authority answered {reply.status_code}")
    try:
        answer = decode_timestamp_response(reply.content)
    except ValueError as err:
        raise TimestampFailed("the timestamping authority's answer does not read") from err
    if answer.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampFailed(f"the timestamping authority refused ({answer.status_string})")
    imprint = answer.tst_info.message_imprint.message
    if imprint != hashlib.sha256(data).digest() or answer.tst_info.nonce != query.nonce:
        raise TimestampFailed("the timestamping authority stamped something else")
    return answer.as_bytes()


def stamp_latest(
    session: Session, *, url: str, http: requests.Session, timeout: float
) -> LedgerCheckpoint | None:
    """Timestamp the newest checkpoint unless it has been; return it when stamped now.

    :raise TimestampFailed: the authority gave no timestamp (the next run tries again).
    """
    latest = ledger.checkpoint(session)
    if latest is None or latest.timestamp is not None:
        return None
    answer = request_timestamp(latest.note, url=url, http=http, timeout=timeout)
    latest.timestamp = base64.b64encode(answer).decode()
    session.flush()
    return latest
