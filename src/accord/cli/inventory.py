"""Listings: users, items as each holder sees them, topics, tokens, agreements in full.

The commands here are attached to their groups in ``cli.main``. Every listing has a table and
``--json`` (typed: lists as lists, instants as ISO 8601 in UTC); none shows content or a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from accord.cli.context import at_option, env, json_option, tz_option
from accord.cli.render import console, emit_json, joined, listing, state_table, when
from accord.model.agreement import Amendment, SuspensionLifted

if TYPE_CHECKING:
    from rich.table import Table

    from accord.service.inventory import AgreementView, HistoryEntry, Inventory


def _inventory() -> Inventory:
    from accord.service.inventory import Inventory

    return Inventory(env().exchange)


@click.command("list")
@click.option("--party", "party", default=None, help="Only this party's users.")
@json_option
def user_list(party: str | None, as_json: bool) -> None:
    """Users: party, clearance (a level of the party's own scheme) and need-to-know."""
    from accord.service.inventory import user_form

    users = _inventory().users(party)
    if as_json:
        emit_json([user_form(u) for u in users])
        return
    rows = [(u.id, u.party, u.clearance, joined(sorted(u.need_to_know))) for u in users]
    console.print(listing(("id", "party", "clearance", "need-to-know"), rows))


@click.command("list")
@click.option("--party", "party", default=None, help="Only the copies this party holds.")
@click.option("--topic", "topic", default=None, help="Only items on this topic.")
@click.option(
    "--level",
    "level",
    default=None,
    help="Only copies at this level in the holder's own scheme (with --party: one of its levels).",
)
@at_option
@tz_option
@json_option
def item_list(
    party: str | None,
    topic: str | None,
    level: str | None,
    at_text: str | None,
    tz_text: str | None,
    as_json: bool,
) -> None:
    """Items as each holding party sees them at --at: one row per copy, with its marking (the
    holder's level, the originator's, REL TO), topics, how it was received, and whether it is
    destroyed. Never the content."""
    copies = _inventory().copies(env().at(at_text), party, topic, level)
    if as_json:
        emit_json([c.as_dict() for c in copies])
        return
    tz = env().zone(tz_text)
    rows = []
    for c in copies:
        h = c.holding
        if h.agreement is None:
            received = f"{when(h.received_at, tz)} (originator)"
        else:
            via = f" via {h.via}" if h.via else ""
            received = f"{when(h.received_at, tz)} under {h.agreement}{via}"
        destroyed = when(h.destroyed_at, tz) if c.destroyed else "-"
        rows.append(
            (
                c.item.id,
                h.party,
                h.level,
                f"{h.originator} {h.originator_level}",
                joined(sorted(c.item.topics)),
                joined(c.marking.releasable_to, "NONE"),
                received,
                destroyed,
            )
        )
    columns = ("item", "holder", "holder's level", "originator", "topics", "REL TO")
    console.print(listing((*columns, "received", "destroyed"), rows))


@click.command("list")
@json_option
def topic_list(as_json: bool) -> None:
    """Topics, with how many items are on each and how many users have need-to-know for it."""
    topics = _inventory().topics()
    if as_json:
        emit_json(topics)
        return
    rows = [(str(t["topic"]), str(t["items"]), str(t["users"])) for t in topics]
    console.print(listing(("topic", "items", "users with need-to-know"), rows))


@click.group()
def token() -> None:
    """API tokens (issue with `accord user token`, revoke with `accord user revoke`)."""


@token.command("list")
@click.option("--user", "user", default=None, help="Only this user's tokens.")
@tz_option
@json_option
def token_list(user: str | None, tz_text: str | None, as_json: bool) -> None:
    """Tokens: id, user, admin, issued, expires, revoked. Never the secret or its hash."""
    tokens = _inventory().tokens(user)
    if as_json:
        emit_json([t.as_dict() for t in tokens])
        return
    tz = env().zone(tz_text)
    rows = [
        (
            t.info.token_id,
            t.info.user,
            "yes" if t.info.admin else "no",
            when(t.info.issued_at, tz),
            when(t.info.expires_at, tz) + (" (expired)" if t.expired else ""),
            when(t.info.revoked_at, tz),
        )
        for t in tokens
    ]
    console.print(listing(("id", "user", "admin", "issued", "expires", "revoked"), rows))


@click.command("show")
@click.argument("agreement_id")
@at_option
@tz_option
@json_option
def agreement_show(
    agreement_id: str, at_text: str | None, tz_text: str | None, as_json: bool
) -> None:
    """An agreement at --at: parties, terms then (start, term, renewal, the current term's end),
    equivalence table, notice period, reference zone, topics, hub, status, and the dated history
    of notes and amendments up to --at, with who sent each (instants in the agreement's zone)."""
    view = _inventory().agreement(agreement_id, env().at(at_text))
    if as_json:
        emit_json(view.as_dict())
        return
    tz = env().zone(tz_text, view.agreement.timezone)
    for table in agreement_tables(view, tz):
        console.print(table)


def agreement_tables(view: AgreementView, tz: ZoneInfo | None) -> list[Table]:
    a, terms = view.agreement, view.state.terms
    facts = [
        ("title", a.title or "-"),
        ("parties", joined(sorted(terms.parties))),
        ("hub", a.hub or "-"),
        ("in force from", when(a.in_force_from, tz)),
        ("term", terms.term.text if terms.term else "indefinite"),
        ("renewal", terms.renewal.value),
        ("notice period", terms.notice_period.text if terms.notice_period else "-"),
        ("reference zone", a.timezone),
        ("topics", terms.topics.describe()),
    ]
    parties = sorted(terms.parties)
    equivalence = [tuple(row.get(p, "-") for p in parties) for row in terms.equivalence.rows]
    history = [
        (when(e.event.at, tz), e.event.kind, joined(e.by), _detail(e, tz)) for e in view.history
    ]
    return [
        listing(("field", "value"), facts, f"agreement {a.id}"),
        listing(parties, equivalence, "equivalence"),
        state_table(view.state, tz),
        listing(
            ("at", "event", "by", "detail"),
            history,
            f"history of notes and amendments to {when(view.state.at, tz)}",
        ),
    ]


def _detail(entry: HistoryEntry, tz: ZoneInfo | None) -> str:
    """What a lifting names (the end) or what an amendment changed, in words."""
    event = entry.event
    if isinstance(event, SuspensionLifted):
        return f"the agreement then ends at {when(event.effective_at, tz)}"
    if not isinstance(event, Amendment):
        return ""
    changes = entry.as_dict()["changes"]
    assert isinstance(changes, dict)
    return "; ".join(f"{name}: {_value_text(name, value)}" for name, value in changes.items())


def _value_text(name: str, value: object) -> str:
    """A term's JSON form as text: rows of an equivalence table as PARTY=LEVEL, lists joined."""
    if value is None:
        return "indefinite" if name == "term" else "none"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return " | ".join(", ".join(f"{p}={lv}" for p, lv in row.items()) for row in value)
        return joined(str(v) for v in value)
    return str(value)
