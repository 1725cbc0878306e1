"""``accord node``: run a sovereign node for one party — its identity, its card, its peers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from accord.cli.acts import amendable_options
from accord.cli.context import at_option, env, json_option
from accord.cli.keys import force_option, refuse_in_work_tree
from accord.cli.render import console, emit_json, listing, when
from accord.errors import InvalidInput

if TYPE_CHECKING:
    from accord.model.node import PinnedPeer
    from accord.service.node import Node
    from accord.service.node_amend import Amendments, Proposal


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


# --- amendments across nodes (Art. 21(2): mutual written consent) -------------------------------


def _amendments() -> Amendments:
    from accord.service import system_clock
    from accord.service.node_amend import Amendments as Made

    return Made(env().exchange, env().exchange.instant(system_clock()))


def _changes_file(path: Path) -> dict[str, object]:
    """The changes FILE gives: a JSON object of amendable terms, spelled as in a scenario."""
    from accord.cli.define import duration
    from accord.model.agreement import AMENDABLE, EquivalenceTable, Renewal, TopicScope

    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"--amendment: {path} does not exist") from None
    except (OSError, ValueError):
        raise InvalidInput(f"--amendment: {path} is not a JSON file") from None
    if not isinstance(doc, dict) or not doc or not set(doc) <= set(AMENDABLE):
        raise InvalidInput(
            f"{path}: the amendment is an object of at least one of {', '.join(AMENDABLE)}"
        )
    changes: dict[str, object] = {}
    for name, value in doc.items():
        where = f"{path}: {name}"
        if name == "parties" and _texts(value):
            changes[name] = frozenset(value)
        elif name == "topics" and (value is None or _texts(value)):
            changes[name] = TopicScope(None if value is None else frozenset(value))
        elif name == "equivalence" and isinstance(value, list) and value:
            if not all(isinstance(r, dict) and r and _texts([*r, *r.values()]) for r in value):
                raise InvalidInput(f"{where}: each row is an object of PARTY: LEVEL")
            changes[name] = EquivalenceTable(tuple(dict(r) for r in value))
        elif name in ("term", "notice_period") and (value is None or isinstance(value, str)):
            if value is None and name == "notice_period":
                raise InvalidInput(f"{where}: a notice period is an ISO 8601 duration")
            changes[name] = None if value is None else duration(value, where)
        elif name == "renewal" and value in ("automatic", "none"):
            changes[name] = Renewal(value)
        else:
            raise InvalidInput(f"{where}: {json.dumps(value)[:80]} is not a valid {name}")
    return changes


def _texts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _proposal_form(proposal: Proposal) -> dict[str, object]:
    from accord.model.time import iso

    return {
        "id": proposal.id,
        "agreement": proposal.agreement,
        "at": iso(proposal.at),
        "changes": proposal.changes,
        "signed_by": list(proposal.signed_by),
        "waiting_for": list(proposal.waiting_for),
        "state": proposal.state.value,
        "from": proposal.sender,
        "arrived_at": iso(proposal.arrived_at),
    }


def _show_proposal(proposal: Proposal, as_json: bool, verb: str) -> None:
    form = _proposal_form(proposal)
    if as_json:
        emit_json({"done": True, "proposal": form})
        return
    waiting = ", ".join(proposal.waiting_for) or "no one"
    console.print(f"{verb} amendment of {proposal.agreement} at {form['at']}: {proposal.id}")
    console.print(
        f"state {proposal.state.value}; signed by {', '.join(proposal.signed_by)};"
        f" waiting for {waiting}"
    )


@node.command("propose")
@click.argument("agreement_id")
@click.option(
    "--amendment",
    "amendment_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A JSON file of the terms to amend (instead of the term options).",
)
@amendable_options
@at_option
@json_option
def propose(
    agreement_id: str,
    amendment_file: Path | None,
    rows: tuple[str, ...],
    topics_text: str | None,
    term: str | None,
    notice_period: str | None,
    parties_text: str | None,
    renewal: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Propose an amendment of AGREEMENT by mutual written consent, in force from --at on: this
    node signs its party's share and queues it for every other party's pinned node (the
    amendment applies once each has countersigned). The terms come from --amendment FILE or
    from the term options. Proposing the same amendment again changes nothing."""
    from accord.cli.acts import changes_from
    from accord.model.agreement import Amendment

    given = (rows, topics_text, term, notice_period, parties_text, renewal)
    if amendment_file is not None:
        if any(given):
            raise click.UsageError("give --amendment FILE or the term options, not both")
        changes = _changes_file(amendment_file)
    else:
        changes = changes_from(*given)
    amendment = Amendment(env().at(at_text), agreement_id, changes)
    _show_proposal(_amendments().propose(amendment), as_json, "proposed")


@node.command("countersign")
@click.argument("proposal_id")
@json_option
def countersign(proposal_id: str, as_json: bool) -> None:
    """Sign this node's party's share of the proposal PROPOSAL_ID (`accord node proposals`):
    the amendment is checked on this node's record at its instant, applied once every party's
    share is held (each verified under its pinned key), and this share is queued for the other
    parties' nodes. Countersigning again changes nothing and gives the same answer."""
    _show_proposal(_amendments().countersign(proposal_id), as_json, "countersigned")


@node.command("proposals")
@json_option
def proposals(as_json: bool) -> None:
    """The amendment proposals this node holds, its own and its peers': id, agreement, instant,
    who signed, who it waits for, and state (to-countersign, awaiting, applied)."""
    found = _amendments().proposals()
    if as_json:
        emit_json([_proposal_form(p) for p in found])
        return
    tz = env().settings.tz
    rows = [
        (
            p.id,
            p.agreement,
            when(p.at, tz),
            ", ".join(p.signed_by),
            ", ".join(p.waiting_for) or "-",
            p.state.value,
        )
        for p in found
    ]
    columns = ("id", "agreement", "at", "signed by", "waiting for", "state")
    console.print(listing(columns, rows))
