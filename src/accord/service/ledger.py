"""The record of facts: each signed as it is recorded by the parties that vouch for it, each
checked as the world is rebuilt, through the one definition of its kind (``accord.model.facts``).

A fact is admitted into the world only when its kind is known, its body reads as that kind, its
vouchers are the ones its definition names, its id is its kind and body's, and each voucher's
Ed25519 signature verifies with that party's public key of the version it names. A fact that
fails any of these (or that cannot be applied, because it rests on one that failed) grants
nothing: it is left out, and the world records its subjects as tainted (the whole world, for a
kind that restricts, or a fact missing from the sequence). Nothing is raised while loading: the
acts that need a tainted subject are refused, the others go on.

Checking costs one Ed25519 verification per voucher per fact; a check that passed is remembered
for this process (keyed by the exact message and signatures), so a world reloaded after another
process wrote verifies only the facts it has not seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.crypto import Keyring, PublicKeys
from accord.crypto.batch import batch_message, is_batch, parse_batch, sign_batch
from accord.crypto.canonical import canonical_json
from accord.crypto.facts import fact_id, fact_message, sign_fact, stored_signature, verify_fact
from accord.errors import AccordError, IntegrityError
from accord.model.facts import EXCHANGE, Definition, FactKind
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import WireFact
from accord.model.taint import WHOLE_WORLD, Subject, describe
from accord.model.world import World
from accord.service.received_check import PartyKeys as PinnedKeys
from accord.service.received_check import check_signatures
from accord.store import received
from accord.store.sql import FactRow, KeySetRow, StoreTx

log = logging.getLogger("accord.facts")

HEAD = "facts_head"  # the meta key of the record's signed head
HEAD_PREFIX = b"accord facts head v1\n"
RECEIVED_HEAD = "received_head"  # the meta key of the received facts' signed head
RECEIVED_HEAD_PREFIX = b"accord received facts head v1\n"

_VERIFIED_MAX = 1_000_000  # checks remembered (digests of 32 bytes)


def public_keys(rows: Iterable[KeySetRow]) -> dict[tuple[str, int], PublicKeys]:
    """The stored public keys by (owner, version); a malformed row is left out (the facts it
    would verify then fail). The vault checks each against its sealed private keys."""
    keys: dict[tuple[str, int], PublicKeys] = {}
    for row in rows:
        try:
            keys[(row.owner, row.version)] = PublicKeys(
                row.owner, row.version, row.x25519_public, row.ed25519_public
            )
        except AccordError:
            continue
    return keys


def fact_about(row: Mapping[str, Any]) -> str:
    """What a stored fact (a row image: its kind and body) is about, for a message: its kind
    and subjects as the body says, or just its kind when the body does not read as one."""
    kind = str(row.get("kind"))
    try:
        fact = DEFINITIONS[FactKind(kind)].decode(json.loads(str(row.get("body"))))
        subjects = DEFINITIONS[FactKind(kind)].subjects(fact)
    except (AccordError, KeyError, ValueError, TypeError, AttributeError):
        return kind
    return ", ".join(describe(s) for s in subjects)


class Ledger:
    """Signs facts as they are recorded and checks them as the world is rebuilt."""

    def __init__(self) -> None:
        self._verified: set[bytes] = set()

    # --- recording ------------------------------------------------------------------------------

    def record(
        self, tx: StoreTx, keyring: Keyring, world: World, kind: FactKind, fact: object
    ) -> None:
        """Apply ``fact`` to ``world`` (its checks refuse bad input first), then store it signed by
        each party its definition says must vouch for it."""
        definition = DEFINITIONS[kind]
        vouchers = definition.vouchers(fact, world)
        definition.apply(world, fact)
        body = canonical_json(definition.encode(fact)).decode("utf-8")
        seq = tx.next_fact_seq()
        message = fact_message(seq, kind.value, vouchers, body)
        signatures = tuple(sign_fact(keyring.current(v), message) for v in vouchers)
        tx.add_fact_row(
            FactRow(seq, fact_id(kind.value, body), kind.value, vouchers, body, signatures)
        )
        self._remember(message, signatures)

    def prepare(
        self,
        tx: StoreTx,
        keyring: Keyring,
        world: World,
        kind: FactKind,
        facts: Sequence[object],
    ) -> list[FactRow]:
        """Apply each of ``facts`` to ``world`` in turn (its checks refuse bad input first) and
        sign them as one batch: one signature per voucher over the Merkle root of the facts it
        vouches for (``accord.crypto.batch``), each fact's row carrying its own path. The rows
        take the next places in the record, in order; the caller adds each with
        ``tx.add_fact_row``, as ``record`` would have."""
        definition = DEFINITIONS[kind]
        first = tx.next_fact_seq()
        made: list[tuple[tuple[str, ...], str, bytes]] = []
        for n, fact in enumerate(facts):
            vouchers = definition.vouchers(fact, world)
            definition.apply(world, fact)
            body = canonical_json(definition.encode(fact)).decode("utf-8")
            made.append((vouchers, body, fact_message(first + n, kind.value, vouchers, body)))
        by_voucher: dict[str, list[int]] = {}
        for n, (vouchers, _, _) in enumerate(made):
            for voucher in vouchers:
                by_voucher.setdefault(voucher, []).append(n)
        signed: dict[tuple[int, str], str] = {}
        for voucher, places in by_voucher.items():
            texts = sign_batch(keyring.current(voucher), [made[n][2] for n in places])
            signed.update({(n, voucher): text for n, text in zip(places, texts, strict=True)})
        rows = []
        for n, (vouchers, body, message) in enumerate(made):
            signatures = tuple(signed[(n, v)] for v in vouchers)
            rows.append(
                FactRow(
                    first + n, fact_id(kind.value, body), kind.value, vouchers, body, signatures
                )
            )
            self._remember(message, signatures)
        return rows

    def seal_head(self, tx: StoreTx, keyring: Keyring) -> None:
        """Sign the record's head (how many facts, the last one's id) with the exchange's key,
        after a unit of work that wrote facts: a record cut short is found when it is loaded."""
        if tx.last_fact is None:
            return
        seq, last = tx.last_fact
        message = _head_message(seq, last)
        tx.set_meta(HEAD, json.dumps([seq, last, sign_fact(keyring.current(EXCHANGE), message)]))

    def _head(
        self, tx: StoreTx, keys: Mapping[tuple[str, int], PublicKeys]
    ) -> tuple[int, str] | str | None:
        """The record's signed head (its size and last fact's id), or why it cannot be trusted;
        None when there is none."""
        return _signed_head(tx, keys, HEAD, _head_message, "the record's head", "the exchange")

    # --- loading --------------------------------------------------------------------------------

    def load(
        self, tx: StoreTx, failures: list[str] | None = None, *, pinned: PinnedKeys | None = None
    ) -> World:
        """The world of the stored facts that pass their checks, with what the others taint;
        each failure's reason is added to ``failures`` when given, in the record's order.

        The facts received from peers are replayed among them in the order they were applied,
        each trusted only under the keys ``pinned`` gives for its vouching parties (a node's
        pinned cards; this store's own parties' keys are its key sets)."""
        world = World()
        keys = public_keys(tx.key_sets())
        found: list[str] = [] if failures is None else failures
        head = self._head(tx, keys)
        others = _ReceivedReplay(self, tx, world, _party_keys(keys, pinned), found)
        expected = 1
        for row in tx.fact_rows():
            others.replay(before=row.seq)
            if row.seq != expected:
                found.append(f"facts {expected} to {row.seq - 1} are missing from the record")
                self._refuse(world, (WHOLE_WORLD,), found[-1])
            expected = row.seq + 1
            if isinstance(head, tuple) and row.seq == head[0] and row.id != head[1]:
                found.append(f"fact {row.seq} is not the fact the record's signed head names")
                self._refuse(world, (WHOLE_WORLD,), found[-1])
            failure = self.admit(world, row, keys)
            if failure is not None:
                found.append(failure.message)
        # facts after the head are judged by their own signatures; fewer facts than it counts
        # means the record was cut short, and no head at all means it cannot be told
        problem = head if isinstance(head, str) else None
        if head is None and expected > 1:
            problem = "the record's signed head is missing"
        elif isinstance(head, tuple) and head[0] >= expected:
            problem = (
                f"facts {expected} to {head[0]} are missing from the record (it was cut short)"
            )
        if problem is not None:
            found.append(problem)
            self._refuse(world, (WHOLE_WORLD,), problem)
        others.replay(before=None)
        others.finish(self._received_head(tx, keys))
        return world

    def failures(self, tx: StoreTx) -> list[str]:
        """Why each stored fact that fails its check does (``audit verify`` names the first)."""
        found: list[str] = []
        self.load(tx, found)
        return found

    def admit(
        self, world: World, row: FactRow, keys: Mapping[tuple[str, int], PublicKeys]
    ) -> IntegrityError | None:
        """Check one stored fact and apply it to ``world``; the failure, if it was left out."""
        what = f"fact {row.seq} ({row.kind})"

        def check(definition: Definition[Any], fact: object) -> None:
            self._check(world, row, definition, fact, keys, what)

        return self._apply_checked(world, row.kind, row.body, what, check)

    def _apply_checked(
        self,
        world: World,
        kind: str,
        body: str,
        what: str,
        check: Callable[[Definition[Any], object], None],
    ) -> IntegrityError | None:
        """Decode a fact of ``kind``, ``check`` it, apply it to ``world``; when any step fails,
        the fact is left out (what it touches refused, with the reason) and the failure given."""
        try:
            definition = DEFINITIONS[FactKind(kind)]
            fact = definition.decode(json.loads(body))
            subjects = definition.subjects(fact)
        except (AccordError, KeyError, ValueError, TypeError, AttributeError):
            return self._refuse(world, (WHOLE_WORLD,), f"{what} cannot be read as a fact")
        try:
            check(definition, fact)
            definition.apply(world, fact)
        except (AccordError, KeyError, ValueError, TypeError) as error:
            reason = (
                error.message if isinstance(error, AccordError) else f"{what} cannot be applied"
            )
            if isinstance(error, AccordError) and not isinstance(error, IntegrityError):
                reason = f"{what} cannot be applied: {error.message}"
            return self._refuse(world, (WHOLE_WORLD,) if definition.restricts else subjects, reason)
        return None

    def _check(
        self,
        world: World,
        row: FactRow,
        definition: Definition[Any],
        fact: object,
        keys: Mapping[tuple[str, int], PublicKeys],
        what: str,
    ) -> None:
        vouchers = definition.vouchers(fact, world)
        if row.vouchers != vouchers:
            raise IntegrityError(
                f"{what} is vouched for by {', '.join(row.vouchers) or 'no one'};"
                f" it must be by {', '.join(vouchers)}"
            )
        if row.id != fact_id(row.kind, row.body):
            raise IntegrityError(f"{what}: its id is not the digest of its kind and body")
        if len(row.signatures) != len(vouchers):
            raise IntegrityError(
                f"{what} carries {len(row.signatures)} signatures for {len(vouchers)} vouchers"
            )
        message = fact_message(row.seq, row.kind, row.vouchers, row.body)
        token = _token(message, row.signatures)
        if token in self._verified:
            return
        for voucher, text in zip(vouchers, row.signatures, strict=True):
            self._check_one(message, voucher, text, keys, what)
        self._remember(message, row.signatures, token)

    def _check_one(
        self,
        message: bytes,
        voucher: str,
        text: str,
        keys: Mapping[tuple[str, int], PublicKeys],
        fact: str,
    ) -> None:
        """One voucher's stored signature over ``message``: its own, or a batch signature with
        the fact's path (the root's signature, once it verified, is remembered)."""
        what = f"{fact}: {voucher}'s signature"
        batch = parse_batch(text, what=what) if is_batch(text) else None
        signature = batch.signature if batch else stored_signature(text, what=what)
        public = keys.get((voucher, signature.key_version))
        if signature.signer != voucher or public is None:
            raise IntegrityError(f"{fact} is not signed by {voucher} with a key of the record")
        if batch is None:
            verify_fact(public, message, signature, what=what)
            return
        signed = batch_message(batch.root(message, what=what), batch.size)
        token = _token(signed, (text.split(".", 2)[1],))
        if token not in self._verified:
            verify_fact(public, signed, signature, what=what)
            self._remember(signed, (), token)

    # --- facts received from peers ----------------------------------------------------------

    def admit_received(
        self,
        tx: StoreTx,
        keyring: Keyring,
        world: World,
        fact: ReceivedFact,
        sender: str,
        arrival: datetime,
        keys: PinnedKeys,
    ) -> None:
        """Write a verified fact received from node ``sender`` into ``world`` through the one
        definition of its kind, then keep it with its sender's instant and its arrival instant
        (``received_facts``, after the local facts recorded so far). Its signatures are checked
        again under ``keys`` first; a fact the world cannot take raises and nothing is kept."""
        definition = DEFINITIONS[FactKind(fact.kind)]
        decoded = definition.decode(json.loads(fact.body))
        vouchers = definition.vouchers(decoded, world)
        check_signatures(
            f"fact {fact.fact_id} ({fact.kind})",
            fact.kind,
            fact.body,
            vouchers,
            fact.signatures,
            _party_keys(public_keys(tx.key_sets()), keys),
        )
        definition.apply(world, decoded)
        row = received.ReceivedRow(
            received.next_position(tx),
            fact.fact_id,
            fact.kind,
            fact.body,
            fact.instant,
            sender,
            arrival,
            tx.last_fact_seq(),
            received.ReceivedState.APPLIED,
            tuple(fact.signatures),
        )
        if received.get(tx, fact.fact_id) is None:
            received.add(tx, row)
        else:
            received.replace(tx, row)  # a fact that waited for a voucher's share
        applied = received.rows(tx, received.ReceivedState.APPLIED)
        message = _received_head_message(len(applied), fact.fact_id)
        signature = sign_fact(keyring.current(EXCHANGE), message)
        tx.set_meta(RECEIVED_HEAD, json.dumps([len(applied), fact.fact_id, signature]))

    def _received_head(
        self, tx: StoreTx, keys: Mapping[tuple[str, int], PublicKeys]
    ) -> tuple[int, str] | str | None:
        return _signed_head(
            tx, keys, RECEIVED_HEAD, _received_head_message, "the received facts' head", "this node"
        )

    def admit_received_row(
        self, world: World, row: received.ReceivedRow, keys: Mapping[str, Sequence[bytes]]
    ) -> IntegrityError | None:
        """Check one kept received fact and apply it to ``world``; the failure, if left out."""
        what = f"received fact {row.position} ({row.kind})"

        def check(definition: Definition[Any], fact: object) -> None:
            if row.fact_id != fact_id(row.kind, row.body):
                raise IntegrityError(f"{what}: its id is not the digest of its kind and body")
            vouchers = definition.vouchers(fact, world)
            check_signatures(what, row.kind, row.body, vouchers, row.signatures, keys)

        return self._apply_checked(world, row.kind, row.body, what, check)

    def _remember(
        self, message: bytes, signatures: tuple[str, ...], token: bytes | None = None
    ) -> None:
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified.add(token or _token(message, signatures))

    @staticmethod
    def _refuse(world: World, subjects: Iterable[Subject], reason: str) -> IntegrityError:
        log.error("a stored fact grants nothing: %s", reason)
        world.taint(subjects, reason)
        return IntegrityError(reason)


@dataclass(frozen=True, slots=True)
class ReceivedFact:
    """A fact from a peer, verified, to admit: its id, kind, canonical body (text), the
    sender's instant and the signed wire facts (one per voucher) that vouch for it."""

    fact_id: str
    kind: str
    body: str
    instant: datetime
    signatures: tuple[WireFact, ...]


class _ReceivedReplay:
    """The received facts replayed among the local ones, each after the local facts that came
    before it when it was applied."""

    def __init__(
        self,
        ledger: Ledger,
        tx: StoreTx,
        world: World,
        keys: Mapping[str, Sequence[bytes]],
        found: list[str],
    ) -> None:
        self.ledger, self.world, self.keys, self.found = ledger, world, keys, found
        self.rows = received.rows(tx, received.ReceivedState.APPLIED)
        self.next = 0

    def replay(self, before: int | None) -> None:
        """Apply the received facts kept before local fact ``before`` (every one: ``None``)."""
        while self.next < len(self.rows):
            row = self.rows[self.next]
            if before is not None and (row.after_fact or 0) >= before:
                return
            self.next += 1
            failure = self.ledger.admit_received_row(self.world, row, self.keys)
            if failure is not None:
                self.found.append(failure.message)

    def finish(self, head: tuple[int, str] | str | None) -> None:
        """Check the received facts against their signed head: one cut off or deleted taints
        the whole world."""
        problem = head if isinstance(head, str) else None
        if head is None and self.rows:
            problem = "the received facts' signed head is missing"
        elif isinstance(head, tuple) and (
            head[0] != len(self.rows) or not self.rows or self.rows[-1].fact_id != head[1]
        ):
            problem = (
                f"the received facts are not the {head[0]} their signed head counts"
                " (one was deleted, added or moved)"
            )
        if problem is not None:
            self.found.append(problem)
            self.ledger._refuse(self.world, (WHOLE_WORLD,), problem)


def _party_keys(
    keys: Mapping[tuple[str, int], PublicKeys], pinned: PinnedKeys | None
) -> dict[str, list[bytes]]:
    """Each party's trusted Ed25519 keys: this store's key sets, and the pinned ones."""
    found: dict[str, list[bytes]] = {}
    for (owner, _), public in sorted(keys.items()):
        found.setdefault(owner, []).append(public.ed25519)
    for party, values in (pinned or {}).items():
        found.setdefault(party, []).extend(values)
    return found


def _signed_head(
    tx: StoreTx,
    keys: Mapping[tuple[str, int], PublicKeys],
    key: str,
    message_of: Callable[[int, str], bytes],
    name: str,
    signer: str,
) -> tuple[int, str] | str | None:
    """A head kept in ``meta`` under ``key``: its count and last fact's id once its signature
    by this exchange (or node) verifies, why it cannot be trusted otherwise, None when absent."""
    text = tx.meta(key)
    if text is None:
        return None
    try:
        count, last, signature_text = json.loads(text)
        signature = stored_signature(str(signature_text), what=name)
        public = keys.get((EXCHANGE, signature.key_version))
        if signature.signer != EXCHANGE or public is None:
            raise IntegrityError(f"{name} is not signed by {signer}")
        verify_fact(public, message_of(int(count), str(last)), signature, what=name)
    except (IntegrityError, ValueError, TypeError) as error:
        if isinstance(error, IntegrityError):
            return error.message
        return f"{name} is malformed"
    return int(count), str(last)


def _received_head_message(size: int, last: str) -> bytes:
    return RECEIVED_HEAD_PREFIX + canonical_json({"last": last, "size": size})


def _head_message(seq: int, last: str) -> bytes:
    return HEAD_PREFIX + canonical_json({"last": last, "size": seq})


def _token(message: bytes, signatures: tuple[str, ...]) -> bytes:
    return hashlib.sha256(
        message + b"\n" + "\n".join(signatures).encode("ascii", "replace")
    ).digest()
