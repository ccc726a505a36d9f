"""``python -m verifier``: check a proof bundle, or that one checkpoint extends another.

Exit status 0 when everything checks, 1 when something does not (the reason is printed),
2 when the command line is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing as t
from collections.abc import Sequence
from pathlib import Path

from verifier import bundle
from verifier import checkpoint as notes
from verifier import merkle
from verifier import timestamp as stamps


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier's command line; return its exit status."""
    args = _parser().parse_args(argv)
    try:
        keys = _keys(args.key, args.keys)
        if args.command == "bundle":
            _check_bundle(args, keys)
        else:
            _check_consistency(args, keys)
    except (
        bundle.BundleError,
        notes.CheckpointError,
        merkle.ProofError,
        stamps.TimestampError,
    ) as err:
        print(f"НЕ ПОДТВЕРЖДЕНО / NOT VERIFIED: {err}")
        return 1
    except (OSError, ValueError, KeyError) as err:
        print(f"НЕ ПОДТВЕРЖДЕНО / NOT VERIFIED: the file does not read ({err})")
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m verifier", description=__doc__)
    trust = argparse.ArgumentParser(add_help=False)
    trust.add_argument("--key", action="append", default=[], help="a trusted verifier key")
    trust.add_argument("--keys", type=Path, help="a file of trusted verifier keys, one a line")
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("bundle", parents=[trust], help="check a proof bundle")
    one.add_argument("bundle", type=Path)
    one.add_argument("--checkpoint", type=Path, help="a checkpoint saved earlier, to hold it to")
    one.add_argument(
        "--tsa-root",
        type=Path,
        help="the timestamping authority's root certificate (PEM): the checkpoint must carry"
        " its RFC 3161 timestamp",
    )
    two = commands.add_parser(
        "consistency", parents=[trust], help="check that a newer checkpoint extends an older"
    )
    two.add_argument("old", type=Path)
    two.add_argument("new", type=Path)
    two.add_argument("proof", type=Path, help="the log's consistency proof, as JSON")
    return parser


def _keys(given: Sequence[str], path: Path | None) -> list[notes.VerifierKey]:
    texts = list(given)
    if path is not None:
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise notes.CheckpointError("give the log's verifier key (--key or --keys)")
    return [notes.VerifierKey.parse(text) for text in texts]


def _check_bundle(args: argparse.Namespace, keys: list[notes.VerifierKey]) -> None:
    document = json.loads(args.bundle.read_text(encoding="utf-8"))
    saved = None
    if args.checkpoint is not None:
        saved = notes.verify(args.checkpoint.read_text(encoding="utf-8"), keys)
    roots = [] if args.tsa_root is None else stamps.load_roots(args.tsa_root.read_bytes())
    verified = bundle.verify(document, keys, saved=saved, tsa_roots=roots)
    head = verified.checkpoint
    print(f"Контрольная точка / checkpoint: {head.origin}, записей: {head.size}, подпись верна")
    if saved is not None:
        print(f"Согласована с сохранённой / consistent with the saved one of {saved.size}")
    if verified.timestamped_at is not None:
        moment = verified.timestamped_at.isoformat()
        print(f"Метка времени RFC 3161 / timestamped by the authority at {moment}")
    elif verified.carries_timestamp:
        print("Метка времени RFC 3161 есть, но не проверена (--tsa-root) / timestamp not checked")
    for entry in verified.entries:
        print(f"  #{entry.index} {entry.seen} {entry.section} {entry.kind}: {_said(entry)}")
    print(f"ПОДТВЕРЖДЕНО / VERIFIED: записей в журнале — {len(verified.entries)}")


def _said(entry: bundle.Entry) -> str:
    payload: t.Any = entry.payload
    if payload is None:
        return f"{entry.record_key} удалена"
    shown = [
        str(payload[name]) for name in ("date", "subject", "value", "kind") if payload.get(name)
    ]
    return " ".join(shown) or entry.record_key


def _check_consistency(args: argparse.Namespace, keys: list[notes.VerifierKey]) -> None:
    old = notes.verify(args.old.read_text(encoding="utf-8"), keys)
    new = notes.verify(args.new.read_text(encoding="utf-8"), keys, origin=old.origin)
    proof = json.loads(args.proof.read_text(encoding="utf-8"))
    if (int(proof["from"]), int(proof["to"])) != (old.size, new.size):
        raise merkle.ProofError("the proof is for other sizes than these checkpoints")
    path = [bytes.fromhex(step) for step in proof["proof"]]
    merkle.verify_consistency(old.size, new.size, old.root, new.root, path)
    print(
        f"ПОДТВЕРЖДЕНО / VERIFIED: журнал размера {new.size} продолжает журнал размера"
        f" {old.size}, не меняя его"
    )


if __name__ == "__main__":
    sys.exit(main())
