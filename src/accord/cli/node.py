"""``accord node``: run a sovereign node for one party — its identity, its card, its peers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from accord.cli.context import env, json_option
from accord.cli.keys import force_option, refuse_in_work_tree
from accord.cli.render import console, emit_json, listing, when
from accord.errors import InvalidInput

if TYPE_CHECKING:
    from accord.model.node import PinnedPeer
    from accord.service.node import Node


def _node() -> Node:
    from accord.service.node import Node

    return Node(env().exchange)


@click.group()
def node() -> None:
    """A sovereign node: one party's store, TLS identity, card and pinned peers."""


@node.command("init")
@click.argument("party")
@click.option("--url", required=True, help="The node-to-node URL peers reach: https://HOST:PORT.")
@force_option
@json_option
def init(party: str, url: str, force: bool, as_json: bool) -> None:
    """Make a new store that speaks for PARTY alone: the node's log key, PARTY's key set and a
    TLS identity (an ECDSA P-256 key, sealed under the master key, and a self-signed
    certificate naming PARTY and the URL's host). With --key-file naming a file that does not
    exist, a new master key is written there (mode 0600; refused inside a git work tree
    unless --force). A store that already has keys, or is already a node, is refused."""
    from accord.model.node import node_address
    from accord.service import MasterKey
    from accord.service.node import Node

    node_address(url, "--url")  # before any file is written
    settings = env().settings
    created = False
    if settings.key_file is not None and not settings.key_file.exists():
        refuse_in_work_tree(settings.key_file, "--key-file", force)
        MasterKey.generate().write(settings.key_file)
        created = True
    try:
        made = Node(env().open(create=True)).init(party, url)
    except BaseException:
        if created and settings.key_file is not None:  # no key that opens nothing is left
            settings.key_file.unlink()
        raise
    if as_json:
        emit_json(
            {
                "party": made.party,
                "url": made.url,
                "certificate_sha256": made.fingerprint,
                "origin": made.origin,
                "key_file_created": created,
            }
        )
        return
    if created:
        console.print(
            f"wrote a new master key to {settings.key_file} (keep it apart from the store)"
        )
    console.print(f"node {made.party} at {made.url}")
    console.print(f"TLS certificate SHA-256: {made.fingerprint}")
    console.print("give peers its card: accord node card --out CARD_FILE")


@node.command("card")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the card to this file instead of printing it.",
)
def card(out: Path | None) -> None:
    """Print this node's public card (JSON, signed by its party): party, URL, TLS certificate,
    key-set public keys and the log verifier key. It holds nothing secret."""
    text = _node().card_text()
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError:
        raise InvalidInput(f"--out: {out} cannot be written") from None
    console.print(f"wrote the card of this node to {out}")


@node.command("trust")
@click.argument("card_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def trust(card_file: Path, as_json: bool) -> None:
    """Pin the peer whose card is CARD_FILE: its party's signature and its certificate are
    checked, and the card is kept bound under this node's key. Pinning the same card again
    changes nothing; another certificate for a pinned party is refused."""
    try:
        text = card_file.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"CARD_FILE: {card_file} does not exist") from None
    except OSError:
        raise InvalidInput(f"CARD_FILE: {card_file} cannot be read") from None
    peer = _node().trust(text, str(card_file))
    if as_json:
        emit_json(_peer_form(peer))
        return
    console.print(f"pinned {peer.party} at {peer.card.url}")
    console.print(f"certificate SHA-256: {peer.fingerprint}")


@node.command("peers")
@click.option(
    "--probe",
    is_flag=True,
    help="First fetch each peer's card over mutual TLS and record whether it answered.",
)
@click.option(
    "--timeout",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 120),
    help="Seconds each probe waits for its peer.",
)
@json_option
def peers(probe: bool, timeout: float, as_json: bool) -> None:
    """The pinned peers: party, URL, certificate SHA-256, when pinned, and the last contact or
    error this node recorded (state: pinned, reachable or failing). With --probe, each peer is
    asked for its card first (it must be the pinned one)."""
    found = _node().probe(timeout) if probe else _node().peers()
    if as_json:
        emit_json([_peer_form(p) for p in found])
        return
    tz = env().settings.tz
    rows = [
        (
            p.party,
            p.card.url,
            p.fingerprint[:16],
            when(p.pinned_at, tz),
            p.status.value,
            when(p.last_contact, tz) if p.last_contact else "-",
            p.last_error or "-",
        )
        for p in found
    ]
    columns = ("party", "url", "certificate", "pinned at", "state", "last contact", "last error")
    console.print(listing(columns, rows))


def _peer_form(peer: PinnedPeer) -> dict[str, object]:
    from accord.model.time import iso

    return {
        "party": peer.party,
        "url": peer.card.url,
        "certificate_sha256": peer.fingerprint,
        "pinned_at": iso(peer.pinned_at),
        "state": peer.status.value,
        "last_contact": iso(peer.last_contact) if peer.last_contact else None,
        "last_error": peer.last_error,
        "last_error_at": iso(peer.last_error_at) if peer.last_error_at else None,
    }


def _wire(timeout: float = 10.0):  # type: ignore[no-untyped-def]
    from accord.service import system_clock
    from accord.service.node import Node
    from accord.service.node_wire import Wire

    return Wire(Node(env().exchange, clock=system_clock), timeout=timeout)


@node.command("send")
@click.argument("peer")
@click.argument("fact_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def send(peer: str, fact_file: Path, as_json: bool) -> None:
    """Sign a fact this node's party vouches for and queue it for the pinned PEER. FACT_FILE is
    JSON: {"kind": KIND, "instant": RFC 3339 with offset, "body": the fact's body}. The kind's
    definition must name this node's party as the one that vouches for it. Queued in the
    outbox, in order; `accord node deliver` (or `accord serve`) sends it."""
    from accord.model.time import iso, parse_instant

    try:
        doc = json.loads(fact_file.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"FACT_FILE: {fact_file} does not exist") from None
    except (OSError, ValueError):
        raise InvalidInput(f"FACT_FILE: {fact_file} is not a JSON file") from None
    if not isinstance(doc, dict) or set(doc) != {"kind", "instant", "body"}:
        raise InvalidInput(f"{fact_file}: the fact is an object of kind, instant and body only")
    if not isinstance(doc["kind"], str) or not isinstance(doc["instant"], str):
        raise InvalidInput(f"{fact_file}: kind and instant are strings")
    instant = parse_instant(doc["instant"], f"{fact_file}: instant")
    try:
        fact = _wire().enqueue(peer, doc["kind"], doc["body"], instant)
    except InvalidInput as error:
        raise InvalidInput(f"{fact_file}: {error.message}") from None
    if as_json:
        emit_json(
            {
                "done": True,
                "summary": f"queued {fact.kind} fact {fact.fact_id} for {peer}",
                "fact": {
                    "id": fact.fact_id,
                    "kind": fact.kind,
                    "party": fact.party,
                    "instant": iso(fact.instant),
                    "peer": peer,
                },
            }
        )
        return
    console.print(f"queued {fact.kind} fact {fact.fact_id} ({fact.party}) for {peer}")


@node.command("deliver")
@click.option("--peer", "only", default=None, help="Deliver to this pinned peer only.")
@click.option(
    "--attempts",
    default=5,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Failed attempts in a row, per peer, before giving up (with backoff between).",
)
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 120),
    help="Seconds each message waits for its receipt.",
)
@json_option
def deliver(only: str | None, attempts: int, timeout: float, as_json: bool) -> None:
    """Send the outbox to the pinned peers over mutual TLS, in order, until nothing waits: each
    message is done only on the peer's signed receipt. A peer that fails is tried again after
    0.2 s, 0.4 s, ... (at most 10 s), at most --attempts times in a row. Exit 0 when nothing
    waits, 3 when some peer still has facts waiting (they stay queued)."""
    import time

    from accord.errors import PeerUnavailable
    from accord.service.courier import Courier

    wire = _wire(timeout)
    peers = [p.party for p in wire.node.peers()]
    if only is not None:
        wire.node.peer(only)  # UnknownPeer, exit 2
        peers = [only]
    courier = Courier(wire.deliverer, lambda: peers, time.monotonic)
    states = courier.deliver_all(attempts, time.sleep)
    forms = [
        {
            "peer": s.peer,
            "messages": s.messages,
            "facts": s.facts,
            "waiting": s.waiting,
            "last_error": s.last_error,
        }
        for s in states
    ]
    stuck = [s for s in states if s.waiting > 0]
    if as_json:
        emit_json({"done": not stuck, "peers": forms})
    else:
        for s in states:
            tail = f"; {s.waiting} waiting ({s.last_error})" if s.waiting else ""
            console.print(f"{s.peer}: delivered {s.facts} facts in {s.messages} messages{tail}")
    if stuck:
        raise PeerUnavailable(
            "facts still wait for " + ", ".join(s.peer for s in stuck) + " (they stay queued)"
        )
