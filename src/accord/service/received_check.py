"""Whether a fact received from a peer is vouched for: each signature it carries checked against
the key of the party that must vouch for it, as pinned (a peer's card) or held (this node's own
party). The ledger calls this as it rebuilds the world and as it admits a new fact.

A fact one party vouches for carries that party's signed wire fact (the same id, kind, party,
instant and body). A fact several parties vouch for (an agreement, an amendment) carries one
``cosignature`` share per voucher, each naming the fact's kind and body, signed by its party.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from accord.crypto.facts import fact_id
from accord.crypto.messages import verify_fact
from accord.errors import AccordError, IntegrityError
from accord.model.facts import cosignature
from accord.model.messages import WireFact

# a party's Ed25519 public keys (raw, 32 bytes), every version this node trusts for it
PartyKeys = Mapping[str, Sequence[bytes]]


def check_signatures(
    what: str,
    kind: str,
    body: str,
    vouchers: Sequence[str],
    signatures: Sequence[WireFact],
    keys: PartyKeys,
) -> None:
    """``IntegrityError`` unless ``signatures`` vouch for the fact ``kind``/``body`` by exactly
    ``vouchers``, each verifying under a key of its party in ``keys``."""
    if len(signatures) != len(vouchers) or not signatures:
        raise IntegrityError(
            f"{what} carries {len(signatures)} signatures for {len(vouchers)} vouchers"
        )
    by = sorted(s.party for s in signatures)
    if by != sorted(vouchers):
        raise IntegrityError(
            f"{what} is vouched for by {', '.join(by)}; it must be by {', '.join(vouchers)}"
        )
    for signed in signatures:
        if len(vouchers) == 1:
            _same_fact(what, kind, body, signed)
        else:
            _same_share(what, kind, body, signed)
        _verified(what, signed, keys.get(signed.party, ()))


def check_shares(
    what: str,
    kind: str,
    body: str,
    vouchers: Sequence[str],
    shares: Sequence[WireFact],
    keys: PartyKeys,
) -> None:
    """``IntegrityError`` unless each of ``shares`` (some of the vouchers', at most one each) is
    a share of the fact ``kind``/``body`` by one of ``vouchers``, verifying under its key."""
    by = [s.party for s in shares]
    if len(set(by)) != len(by) or not set(by) <= set(vouchers):
        raise IntegrityError(f"{what} carries shares by {', '.join(by)}; not {', '.join(vouchers)}")
    for signed in shares:
        _same_share(what, kind, body, signed)
        _verified(what, signed, keys.get(signed.party, ()))


def _same_fact(what: str, kind: str, body: str, signed: WireFact) -> None:
    if signed.kind != kind or signed.body != body.encode("utf-8"):
        raise IntegrityError(f"{what}: {signed.party}'s signature is on another fact")
    if signed.fact_id != fact_id(kind, body):
        raise IntegrityError(f"{what}: its id is not the digest of its kind and body")


def _same_share(what: str, kind: str, body: str, signed: WireFact) -> None:
    try:
        share = cosignature.decode(json.loads(signed.body))
    except (AccordError, ValueError):
        raise IntegrityError(f"{what}: {signed.party}'s share cannot be read") from None
    text = signed.body.decode("utf-8")
    if (
        signed.kind != cosignature.KIND
        or (share.kind, share.body, share.by) != (kind, body, signed.party)
        or signed.fact_id != fact_id(cosignature.KIND, text)
    ):
        raise IntegrityError(f"{what}: {signed.party}'s share is on another fact")


def _verified(what: str, signed: WireFact, keys: Sequence[bytes]) -> None:
    for public in keys:
        try:
            verify_fact(signed, public)
        except AccordError:
            continue
        return
    raise IntegrityError(f"{what} is not signed by {signed.party} with a key this node pinned")
