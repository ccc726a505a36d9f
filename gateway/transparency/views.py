"""Public, unsigned-in endpoints of the transparency log, for monitors and verifiers.

Nothing here is personal: checkpoints are sizes and roots, proofs are hashes. A regional
operator or an ombudsman polls the checkpoint, keeps copies, and asks for the proof that
each new one extends the last (``python -m verifier consistency``).
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue

from gateway.extensions import db
from gateway.extensions import limiter
from gateway.runtime import services
from gateway.services import ledger

bp = Blueprint("transparency", __name__, url_prefix="/log")
PUBLIC_LIMIT = "120 per minute"
# Monitors poll; a checkpoint changes at most once a sequencer run.
CHECKPOINT_MAX_AGE = "max-age=30"


def _text(body: str, *, cache: str = CHECKPOINT_MAX_AGE) -> Response:
    response = Response(body, mimetype="text/plain")
    response.headers["Cache-Control"] = f"public, {cache}"
    return response


@bp.get("/")
def index() -> ResponseReturnValue:
    """Explain the log and show its latest checkpoint."""
    signed = ledger.checkpoint(db.session)
    return render_template(
        "transparency/index.html", signed=signed, keys=services().signer.verifier_keys()
    )


@bp.get("/checkpoint")
@limiter.limit(PUBLIC_LIMIT)
def checkpoint() -> ResponseReturnValue:
    """Serve the newest signed checkpoint, or the one of ``?size=`` (text/plain)."""
    size = request.args.get("size", type=int)
    if "size" in request.args and (size is None or size < 0):
        return _text("size is a whole number\n", cache="no-store"), 400
    signed = ledger.checkpoint(db.session, size)
    if signed is None:
        return _text("no such checkpoint\n", cache="no-store"), 404
    return _text(
        signed.note, cache="max-age=86400, immutable" if size is not None else CHECKPOINT_MAX_AGE
    )


@bp.get("/keys")
@limiter.limit(PUBLIC_LIMIT)
def keys() -> ResponseReturnValue:
    """Serve the verifier keys, one a line, the current one first."""
    return _text("".join(f"{key}\n" for key in services().signer.verifier_keys()))


@bp.get("/consistency")
@limiter.limit(PUBLIC_LIMIT)
def consistency() -> ResponseReturnValue:
    """Serve the proof that the tree of ``?to=`` leaves extends the tree of ``?from=``."""
    old, new = request.args.get("from", type=int), request.args.get("to", type=int)
    if old is None or new is None:
        return jsonify(error="give from= and to=, whole numbers"), 400
    try:
        proof = ledger.consistency(db.session, old, new)
    except ledger.SizeOutOfRange as err:
        return jsonify(error=str(err)), 400
    response = jsonify({"from": old, "to": new, "proof": [step.hex() for step in proof]})
    response.headers["Cache-Control"] = "public, max-age=86400, immutable"
    return response
