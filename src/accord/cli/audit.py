"""``accord audit``: verify the record, publish and countersign checkpoints, prove entries."""

from __future__ import annotations

import json
from pathlib import Path

import click

from accord.cli.context import env, json_option
from accord.cli.progress import progress_bar
from accord.cli.render import console, emit_json
from accord.errors import InvalidInput, SignatureUnchecked

unsigned_ok_option = click.option(
    "--unsigned-ok",
    is_flag=True,
    help="Accept a check in which no signature was verified (otherwise exit 9).",
)


@click.group()
def audit() -> None:
    """The tamper-evident record (R12): an RFC 9162 Merkle log of every act and every read."""


@audit.command("verify")
@click.option("--verifier-key", default=None, help="Pin the exchange's note verifier key.")
@json_option
def verify(verifier_key: str | None, as_json: bool) -> None:
    """Recompute the tree, check every checkpoint and replay the entries against the store
    (exit 6 names the first bad entry or row; 8 a bad checkpoint)."""
    exchange = env().exchange
    with progress_bar("verifying the log") as progress:
        report = exchange.audit_verify(verifier_key, progress=progress)
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
@unsigned_ok_option
def consistency(old: int, new: int | None, unsigned_ok: bool) -> None:
    """Print a proof that the log of OLD entries is a prefix of the log of NEW (default: all).

    A tree of the proof with no signed checkpoint could not be authenticated by anyone: exit 9,
    printing nothing, unless --unsigned-ok."""
    proof = env().exchange.audit_consistency(old, new)
    missing = [
        f"{what} ({proof[size]} entries)"
        for what, note, size in (
            ("the old tree", "old_checkpoint", "old_size"),
            ("the new tree", "new_checkpoint", "new_size"),
        )
        if proof.get(note) is None
    ]
    if missing and not unsigned_ok:
        raise SignatureUnchecked(
            f"{' and '.join(missing)} has no signed checkpoint, so the proof's roots cannot be "
            "authenticated; choose sizes that were published (`accord audit checkpoint`), or give "
            "--unsigned-ok"
        )
    emit_json(proof)


def _read_proof(proof_file: Path) -> dict[str, object]:
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
    return doc


@audit.command("check-proof")
@click.argument("proof_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--verifier-key", default=None, help="The exchange's note verifier key.")
@unsigned_ok_option
@json_option
def check_proof_command(
    proof_file: Path, verifier_key: str | None, unsigned_ok: bool, as_json: bool
) -> None:
    """Check a proof offline: no store, no master key (exit 7 if it does not verify).

    Without --verifier-key, or for a tree with no checkpoint, no signature is verified: the
    Merkle path alone proves nothing about who published the root, so that is exit 9 unless
    --unsigned-ok."""
    from accord.service.auditor import check_proof_signatures

    result = check_proof_signatures(_read_proof(proof_file), verifier_key)
    if result.unsigned and not unsigned_ok:
        raise SignatureUnchecked(
            f"{proof_file}: the proof's path verifies, but no signature vouches for the "
            f"{' and the '.join(result.unsigned)}"
            + (" (give --verifier-key KEY, " if verifier_key is None else " (")
            + "or --unsigned-ok to accept that)"
        )
    if as_json:
        emit_json({"ok": True, "established": result.established, "unsigned": result.unsigned})
        return
    for line in result.established:
        console.print(f"ok: {line}")


@audit.command("witnesses")
@json_option
def witnesses(as_json: bool) -> None:
    """Per peer node: the latest checkpoint of ours it countersigned, the latest of its log this
    node witnessed, and whether it is held for a fork."""
    from accord.service.witness import list_witnesses

    views = list_witnesses(env().exchange)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    if not views:
        console.print("no peers have exchanged messages with this node")
    for v in views:
        ours = "none" if v.ours_size is None else f"size {v.ours_size} root {v.ours_root}"
        theirs = "none" if v.theirs_size is None else f"size {v.theirs_size} root {v.theirs_root}"
        console.print(f"{v.peer}: {v.state.value}; ours cosigned: {ours}; theirs: {theirs}")
        if v.fork:
            console.print(f"  fork: {v.fork}")
        if v.last_error:
            console.print(f"  last delivery failed: {v.last_error}")


@audit.command("resolve-fork")
@click.argument("peer")
@click.option(
    "--decision",
    type=click.Choice(["accept", "reset"]),
    required=True,
    help="accept: the peer rewrote its log, its message numbers go on; reset: the peer's node "
    "was rebuilt, its numbers start again at 1. Either way its next checkpoint is trusted anew.",
)
def resolve_fork(peer: str, decision: str) -> None:
    """Lift the hold on PEER, whose log was found forked or rewritten (logged)."""
    from accord.model.messages import ForkResolution
    from accord.service.witness import resolve_fork as resolve

    view = resolve(env().exchange, peer, ForkResolution(decision))
    console.print(
        f"{view.peer}: {view.state.value} ({decision}); its next checkpoint is trusted on first use"
    )
