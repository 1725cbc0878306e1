"""``accord audit``: verify the record, publish and countersign checkpoints, prove entries."""

from __future__ import annotations

import json
from pathlib import Path

import click

from accord.cli.context import env, json_option
from accord.cli.render import console, emit_json
from accord.errors import InvalidInput
from accord.service.auditor import check_proof


@click.group()
def audit() -> None:
    """The tamper-evident record (R12): an RFC 9162 Merkle log of every act and every read."""


@audit.command("verify")
@click.option("--verifier-key", default=None, help="Pin the exchange's note verifier key.")
@json_option
def verify(verifier_key: str | None, as_json: bool) -> None:
    """Recompute the tree, check every checkpoint and replay the entries against the store
    (exit 6 names the first bad entry or row; 8 a bad checkpoint)."""
    report = env().exchange.audit_verify(verifier_key)
    if as_json:
        emit_json(report.as_dict())
        return
    console.print(
        f"ok: {report.entries} entries, root {report.root.hex()}; "
        f"{report.checkpoints} checkpoints verified; {report.rows} rows explained by the log"
    )
    for signer in report.countersignatures:
        console.print(f"countersigned: {signer}")


@audit.command("checkpoint")
def checkpoint() -> None:
    """Publish the exchange's latest signed checkpoint and print it (a C2SP signed note)."""
    click.echo(env().exchange.publish_checkpoint(), nl=False)


@audit.command("countersign")
@click.argument("size", type=int)
@click.option("--party", required=True, help="The party that checks and signs.")
def countersign(size: int, party: str) -> None:
    """PARTY verifies the whole log and the checkpoint published at SIZE, then signs it too."""
    click.echo(env().exchange.countersign(size, party), nl=False)


@audit.command("verifier-key")
def verifier_key() -> None:
    """The exchange's note verifier key, which parties pin to check checkpoints offline."""
    click.echo(env().exchange.verifier_key())


@audit.command("prove")
@click.argument("entry", type=int)
@click.option("--size", type=int, default=None, help="Tree size (default: the whole log).")
def prove(entry: int, size: int | None) -> None:
    """Print an inclusion proof of ENTRY (JSON; check it with `accord audit check-proof`)."""
    emit_json(env().exchange.audit_prove(entry, size))


@audit.command("consistency")
@click.argument("old", type=int)
@click.argument("new", type=int, required=False)
def consistency(old: int, new: int | None) -> None:
    """Print a proof that the log of OLD entries is a prefix of the log of NEW (default: all)."""
    emit_json(env().exchange.audit_consistency(old, new))


@audit.command("check-proof")
@click.argument("proof_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--verifier-key", default=None, help="The exchange's note verifier key.")
@json_option
def check_proof_command(proof_file: Path, verifier_key: str | None, as_json: bool) -> None:
    """Check a proof offline: no store, no master key (exit 7 if it does not verify)."""
    try:
        text = proof_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidInput(f"{proof_file}: cannot be read as UTF-8 text") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise InvalidInput(f"{proof_file}: is not JSON") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{proof_file}: is not a JSON object")
    established = check_proof(doc, verifier_key)
    if as_json:
        emit_json({"ok": True, "established": established})
        return
    for line in established:
        console.print(f"ok: {line}")
