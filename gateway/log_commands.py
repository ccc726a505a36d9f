"""``flask log`` commands: sign a checkpoint now, audit the log, show and make signing keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from gateway.extensions import db
from gateway.jobs import stamp_checkpoint
from gateway.runtime import services
from gateway.services import checkpoints
from gateway.services import ledger
from gateway.services import ledger_audit

log_group = AppGroup(
    "log",
    help="The transparency log of what the sync observed (see docs/operators.md).",
)


@log_group.command("checkpoint")
def checkpoint_command() -> None:
    """Append what the syncs queued and sign a checkpoint now (the scheduler does it too)."""
    svc = services()
    try:
        signed = ledger.integrate(db.session, signer=svc.signer, now=svc.now())
        db.session.commit()
    except ledger.LedgerBusy as err:
        db.session.rollback()
        raise click.ClickException("another sequencer is appending; try again") from err
    if signed is None:
        click.echo(f"nothing new: the log holds {ledger.head(db.session).size} leaves")
    else:
        click.echo(signed.note, nl=False)
    if stamp_checkpoint():
        click.echo("timestamped by the configured authority (RFC 3161)")


@log_group.command("audit")
def audit_command() -> None:
    """Check the stored log against its signatures and the record store; exit 1 on a finding."""
    report = ledger_audit.audit(db.session, keys=services().signer.trusted())
    for finding in report.findings:
        click.echo(f"FAIL {finding}")
    click.echo(
        f"{report.leaves} leaves, {report.checkpoints} checkpoints, "
        f"{report.openings} records opened: "
        + ("the log is intact" if report.clean else f"{len(report.findings)} problem(s)")
    )
    if not report.clean:
        raise SystemExit(1)


@log_group.command("keys")
def keys_command() -> None:
    """Print the verifier keys of the log, the current one first (published at /log/keys)."""
    for key in services().signer.verifier_keys():
        click.echo(key)


@log_group.command("new-key")
def new_key_command() -> None:
    """Print a fresh signing key, to put first in GATEWAY_LOG_KEYS."""
    click.echo(checkpoints.new_key())
