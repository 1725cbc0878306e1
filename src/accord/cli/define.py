"""Commands that define the world: topics, parties, agreements, users, items."""

from __future__ import annotations

from pathlib import Path

import click

from accord.cli.context import env, json_option, names
from accord.cli.render import announce, console, emit_json, joined, listing, when
from accord.errors import InvalidInput
from accord.model.agreement import Agreement, EquivalenceTable, Renewal, Terms, TopicScope
from accord.model.item import Item
from accord.model.party import Party
from accord.model.time import Duration, parse_instant
from accord.model.user import User


def equivalence_rows(rows: tuple[str, ...]) -> EquivalenceTable:
    """``--equivalence KOR=군사II급비밀,JPN=極秘`` once per row."""
    parsed = []
    for text in rows:
        row: dict[str, str] = {}
        for pair in text.split(","):
            party, sep, level = pair.partition("=")
            if not sep or not party.strip() or not level.strip():
                raise InvalidInput(f"--equivalence: {pair!r} is not PARTY=LEVEL")
            row[party.strip()] = level.strip()
        parsed.append(row)
    return EquivalenceTable(tuple(parsed))


def topic_scope(text: str) -> TopicScope:
    return TopicScope(None if text.strip() == "all" else names(text))


def duration(text: str | None, name: str) -> Duration | None:
    return Duration.parse(text, name) if text else None


@click.group()
def topic() -> None:
    """Topics (need-to-know and agreement scope)."""


@topic.command("add")
@click.argument("names_text", metavar="NAME[,NAME...]")
@json_option
def topic_add(names_text: str, as_json: bool) -> None:
    """Add topics (comma-separated), all or none."""
    exchange = env().exchange
    added = sorted(names(names_text))
    with exchange.batch():
        for name in added:
            exchange.add_topic(name)
    noun = "topic" if len(added) == 1 else "topics"
    announce(f"added {noun} {', '.join(added)}", as_json, {"topics": added})


@click.group()
def party() -> None:
    """Parties and their classification levels."""


@party.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--timezone", required=True, help="IANA zone, e.g. Asia/Seoul.")
@click.option("--levels", required=True, help="Comma-separated, lowest first.")
@json_option
def party_add(code: str, name: str, timezone: str, levels: str, as_json: bool) -> None:
    """Add a party with its own classification levels; it gets its own key set."""
    from accord.service.inventory import party_form

    made = Party(code, name, timezone, tuple(x.strip() for x in levels.split(",")))
    env().exchange.add_party(made)
    summary = f"added party {code} ({name}, {timezone}; levels {' < '.join(made.levels)}) with its key set"
    announce(summary, as_json, {"party": party_form(made)})


@party.command("list")
@json_option
def party_list(as_json: bool) -> None:
    """Parties: code, name, time zone and levels, lowest first."""
    from accord.service.inventory import Inventory, party_form

    parties = Inventory(env().exchange).parties()
    if as_json:
        emit_json([party_form(p) for p in parties])
        return
    rows = [(p.code, p.name, p.timezone, " < ".join(p.levels)) for p in parties]
    console.print(listing(("code", "name", "timezone", "levels (lowest first)"), rows))


@click.group()
def user() -> None:
    """Users: clearance and need-to-know."""


@user.command("add")
@click.argument("user_id")
@click.option("--party", "party_code", required=True)
@click.option("--clearance", required=True, help="A level of the user's own party.")
@click.option("--need-to-know", "ntk", default="", help="Comma-separated topics.")
@json_option
def user_add(user_id: str, party_code: str, clearance: str, ntk: str, as_json: bool) -> None:
    """Add a user of a party with a clearance and need-to-know topics (R3)."""
    from accord.service.inventory import user_form

    made = User(user_id, party_code, clearance, names(ntk))
    env().exchange.add_user(made)
    summary = (
        f"added user {user_id} of {party_code}: clearance {clearance},"
        f" need-to-know {joined(sorted(made.need_to_know), 'none')}"
    )
    announce(summary, as_json, {"user": user_form(made)})


@click.group()
def item() -> None:
    """Items of intelligence."""


@item.command("add")
@click.argument("item_id")
@click.option("--originator", required=True)
@click.option("--level", required=True, help="A level of the originator's scheme.")
@click.option("--topics", "topics_text", required=True)
@click.option(
    "--releasable-to", "releasable", default="", help="Comma-separated parties (default: none)."
)
@click.option("--created", "created_text", default=None, help="Instant (default: now).")
@click.option("--title", default="")
@click.option("--content", default=None)
@click.option(
    "--content-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None
)
@click.option("--purpose", default=None, help="What it is shared for (Art. 6(h)).")
@click.option(
    "--retain-until",
    "retain_text",
    default=None,
    metavar="INSTANT",
    help="When recipients owe its return or destruction (Art. 6(h)); not before --created.",
)
@json_option
def item_add(
    item_id: str,
    originator: str,
    level: str,
    topics_text: str,
    releasable: str,
    created_text: str | None,
    title: str,
    content: str | None,
    content_file: Path | None,
    as_json: bool,
    purpose: str | None,
    retain_text: str | None,
) -> None:
    """Add an item: encrypted under its own key and signed by its originator, who holds it from
    --created."""
    from accord.service.inventory import item_form

    if content is not None and content_file is not None:
        raise InvalidInput("give --content or --content-file, not both")
    try:
        body = content_file.read_text(encoding="utf-8") if content_file else (content or "")
    except UnicodeDecodeError:
        raise InvalidInput(f"--content-file: {content_file} is not UTF-8 text") from None
    created = env().at(created_text, "--created")
    retain = parse_instant(retain_text, "--retain-until") if retain_text else None
    made = Item(
        item_id,
        originator,
        level,
        names(topics_text),
        names(releasable),
        created,
        title,
        body,
        purpose=purpose,
        retain_until=retain,
    )
    env().exchange.add_item(made)
    rel = joined(sorted(made.releasable_to), "NONE")
    summary = (
        f"added item {item_id}: {originator} {level} // REL TO {rel}, topics"
        f" {joined(sorted(made.topics))}, created {when(created, env().settings.tz)};"
        f" sealed and signed by {originator}"
    )
    announce(summary, as_json, {"item": item_form(made)})


@click.group()
def agreement() -> None:
    """Agreements: define, list, record diplomatic events, status."""


@agreement.command("add")
@click.argument("agreement_id")
@click.option("--parties", "parties_text", required=True)
@click.option("--in-force-from", "in_force_text", required=True)
@click.option("--timezone", required=True, help="Reference zone for term boundaries.")
@click.option(
    "--equivalence",
    "rows",
    multiple=True,
    required=True,
    help="PARTY=LEVEL,PARTY=LEVEL (repeat per row).",
)
@click.option("--term", default=None, help="ISO 8601 duration; omit for indefinite.")
@click.option("--renewal", type=click.Choice(["automatic", "none"]), default=None)
@click.option("--notice-period", default=None)
@click.option("--topics", "topics_text", default="all")
@click.option("--hub", default=None)
@click.option("--title", default="")
@json_option
def agreement_add(
    agreement_id: str,
    parties_text: str,
    in_force_text: str,
    timezone: str,
    rows: tuple[str, ...],
    term: str | None,
    renewal: str | None,
    notice_period: str | None,
    topics_text: str,
    hub: str | None,
    title: str,
    as_json: bool,
) -> None:
    """Add an agreement: parties, equivalence table, topics, term, renewal, notice period, hub."""
    from accord.service.inventory import Inventory

    term_value = duration(term, "--term")
    renewal_value = (
        Renewal(renewal) if renewal else (Renewal.AUTOMATIC if term_value else Renewal.NONE)
    )
    terms = Terms(
        names(parties_text),
        equivalence_rows(rows),
        topic_scope(topics_text),
        term_value,
        renewal_value,
        duration(notice_period, "--notice-period"),
    )
    in_force = parse_instant(in_force_text, "--in-force-from")
    made = Agreement(agreement_id, in_force, timezone, terms, hub, title)
    env().exchange.add_agreement(made)
    view = Inventory(env().exchange).agreement(agreement_id, in_force)
    shown = env().zone(None, timezone)
    term_text = (
        f"term {term_value.text}, renewal {renewal_value.value}" if term_value else "indefinite"
    )
    summary = (
        f"added agreement {agreement_id} between {joined(sorted(terms.parties))}"
        f"{f' (hub {hub})' if hub else ''}, in force from {when(in_force, shown)}; {term_text}"
    )
    announce(summary, as_json, {"agreement": view.as_dict()})


@agreement.command("list")
@click.option(
    "--at", "at_text", metavar="INSTANT", help="Terms and status at this instant (default: now)."
)
@json_option
def agreement_list(at_text: str | None, as_json: bool) -> None:
    """Agreements with their terms and status at --at (JSON: every field, typed)."""
    from accord.service.inventory import Inventory

    views = Inventory(env().exchange).agreements(env().at(at_text))
    if as_json:
        emit_json([view.as_dict() for view in views])
        return
    tz = env().settings.tz
    rows = []
    for view in views:
        a, terms = view.agreement, view.state.terms
        rows.append(
            (
                a.id,
                joined(sorted(terms.parties)),
                a.hub or "-",
                when(a.in_force_from, tz),
                terms.term.text if terms.term else "indefinite",
                terms.renewal.value,
                terms.topics.describe(),
                view.state.status.value,
                str(view.events),
            )
        )
    columns = ("id", "parties", "hub", "in force from", "term", "renewal", "topics")
    console.print(listing((*columns, "status", "events"), rows))
