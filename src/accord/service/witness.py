"""Witnessing peers' logs (the C2SP tlog-witness model) over the node protocol.

With each message a node sends its latest signed checkpoint and a consistency proof from the
checkpoint of its the peer last witnessed. The peer checks the checkpoint's signature by the
sender's log key and the proof against that last checkpoint, then cosigns (its signature line
is added to the note, under ``accord-witness-PARTY``) and returns the cosigned note in its
receipt. A checkpoint that is not consistent (another origin, a smaller tree, a different root
at the same size, a proof that does not verify) means the sender's log was rewritten or forked:
the peer is held, and its messages are refused until an operator resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord.audit import SignedCheckpoint, parse_signed_checkpoint, parse_verifier_key
from accord.audit.verify import verify_consistency
from accord.errors import (
    CheckpointInvalid,
    InvalidInput,
    PeerForked,
    ProofInvalid,
    WitnessRefused,
)
from accord.model.messages import ForkResolution, LinkState, Message, PeerKeys
from accord.service import node_log
from accord.service.exchange import Exchange
from accord.service.node_settings import NodeIdentity, witness_name
from accord.store import inbox, links
from accord.store.sql import StoreTx


@dataclass(frozen=True, slots=True)
class Witnessed:
    size: int
    cosigned: str


def verified_checkpoint(note: str, keys: PeerKeys) -> SignedCheckpoint:
    """The sender's checkpoint, its signature by the sender's log key checked."""
    try:
        signed = parse_signed_checkpoint(note)
        verifier = parse_verifier_key(keys.log_verifier)
        signed.verify(verifier.name, verifier.key)
    except CheckpointInvalid as error:
        raise WitnessRefused(f"the checkpoint of {keys.party}: {error.message}") from None
    return signed


def witness(tx: StoreTx, keys: PeerKeys, message: Message, me: NodeIdentity) -> Witnessed:
    """Check the message's checkpoint against the last one witnessed, and cosign it."""
    signed = verified_checkpoint(message.checkpoint, keys)
    new = signed.checkpoint
    last = inbox.peer_checkpoint(tx, keys.party)
    if last is not None:  # none: the first, or after an operator's decision (trusted on use)
        old = parse_signed_checkpoint(last[1]).checkpoint
        if message.proof_from != old.size:
            raise WitnessRefused(
                f"the consistency proof of {keys.party} starts at size {message.proof_from}; "
                f"this node last witnessed size {old.size}"
            )
        problem = _inconsistency(
            old.origin, new.origin, old.size, new.size, old.root, new.root, message.proof
        )
        if problem is not None:
            raise PeerForked(
                f"the log of {keys.party} is not consistent with the checkpoint this node "
                f"witnessed at size {old.size}: {problem}; its messages are held until an "
                "operator resolves it",
                message.checkpoint,
            )
    cosigned = signed.countersign(me.witness_name, me.key).text()
    return Witnessed(new.size, cosigned)


def _inconsistency(
    old_origin: str,
    new_origin: str,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: tuple[bytes, ...],
) -> str | None:
    if old_origin != new_origin:
        return f"its origin changed from {old_origin!r} to {new_origin!r}"
    if new_size < old_size:
        return f"its tree shrank from {old_size} to {new_size} entries"
    try:
        verify_consistency(old_size, new_size, old_root, new_root, proof)
    except ProofInvalid:
        return f"the proof from size {old_size} to {new_size} does not verify (rewritten or forked)"
    return None


def hold(tx: StoreTx, peer: str, fork: PeerForked) -> None:
    """Record a fork found just now: the peer is held, with what was inconsistent."""
    link = links.link(tx, peer)
    links.save_link(
        tx, link.but(state=LinkState.FORKED, fork=fork.message, fork_checkpoint=fork.checkpoint)
    )


def resolve(tx: StoreTx, peer: str, resolution: ForkResolution) -> links.Link:
    """An operator's decision on a held peer (see ``ForkResolution``)."""
    link = links.link(tx, peer)
    if link.state is not LinkState.FORKED:
        raise InvalidInput(f"peer {peer}: is not held for a fork (state {link.state.value})")
    inbox.forget_peer_checkpoints(tx, peer)
    resolved = link.but(state=LinkState.OK, fork=None, fork_checkpoint=None)
    if resolution is ForkResolution.RESET:
        resolved = resolved.but(received_seq=0, received_digest=None, received_receipt=None)
    links.save_link(tx, resolved)
    return resolved


@dataclass(frozen=True, slots=True)
class WitnessView:
    """For one peer: our latest checkpoint it cosigned, its latest we hold, and its state."""

    peer: str
    ours_size: int | None
    ours_root: str | None
    theirs_size: int | None
    theirs_root: str | None
    state: LinkState
    fork: str | None
    last_error: str | None  # the last failure sending to it, if the latest attempt failed

    def as_dict(self) -> dict[str, object]:
        return {
            "peer": self.peer,
            "ours": None
            if self.ours_size is None
            else {"size": self.ours_size, "root": self.ours_root},
            "theirs": None
            if self.theirs_size is None
            else {"size": self.theirs_size, "root": self.theirs_root},
            "state": self.state.value,
            "fork": self.fork,
            "last_error": self.last_error,
        }


def views(tx: StoreTx) -> list[WitnessView]:
    found = []
    for link in links.all_links(tx):
        ours = None if link.ours_cosigned is None else parse_signed_checkpoint(link.ours_cosigned)
        last = inbox.peer_checkpoint(tx, link.peer)
        theirs = None if last is None else parse_signed_checkpoint(last[1])
        found.append(
            WitnessView(
                link.peer,
                None if ours is None else ours.checkpoint.size,
                None if ours is None else ours.checkpoint.root.hex(),
                None if theirs is None else theirs.checkpoint.size,
                None if theirs is None else theirs.checkpoint.root.hex(),
                link.state,
                link.fork,
                link.last_error,
            )
        )
    return found


def check_cosigned(note: str, our_verifiers: list[str], peer: PeerKeys) -> SignedCheckpoint:
    """A receipt's cosigned checkpoint: ours (one of our log keys signed it) with the peer's
    witness signature on it; ``CheckpointInvalid`` otherwise."""
    signed = parse_signed_checkpoint(note)
    problems = []
    for text in our_verifiers:
        verifier = parse_verifier_key(text)
        try:
            signed.verify(verifier.name, verifier.key)
            break
        except CheckpointInvalid as error:
            problems.append(error.message)
    else:
        raise CheckpointInvalid(f"not a checkpoint of this node's log ({'; '.join(problems)})")
    try:
        key = Ed25519PublicKey.from_public_bytes(peer.ed25519_public)
    except ValueError:
        raise CheckpointInvalid(f"the key of {peer.party} is not an Ed25519 key") from None
    signed.verify(witness_name(peer.party), key)
    return signed


# --- what an operator runs ------------------------------------------------------------------


def list_witnesses(exchange: Exchange) -> list[WitnessView]:
    """Per peer: our latest checkpoint it cosigned, and its latest checkpoint we witnessed."""
    with exchange.store.transaction(write=False) as tx:
        return views(tx)


def resolve_fork(exchange: Exchange, peer: str, resolution: ForkResolution) -> WitnessView:
    """Lift the hold on a forked peer as ``resolution`` says; logged with the fork it ends."""
    now = exchange.instant(None)
    with exchange.store.transaction(write=True) as tx:
        before = links.link(tx, peer)
        resolve(tx, peer, resolution)
        subject = {"peer": peer, "decision": resolution.value, "fork": before.fork}
        node_log.log(tx, exchange.vault, "node-fork-resolved", now, now, subject)
        return next(v for v in views(tx) if v.peer == peer)
