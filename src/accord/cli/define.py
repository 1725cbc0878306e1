"""Commands that define the world: topics, parties, agreements, users, items."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from accord.cli.context import env, json_option, names
from accord.cli.render import console, emit_json, when
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
def topic_add(names_text: str) -> None:
    exchange = env().exchange
    with exchange.batch():
        for name in sorted(names(names_text)):
            exchange.add_topic(name)


@click.group()
def party() -> None:
    """Parties and their classification levels."""


@party.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--timezone", required=True, help="IANA zone, e.g. Asia/Seoul.")
@click.option("--levels", required=True, help="Comma-separated, lowest first.")
def party_add(code: str, name: str, timezone: str, levels: str) -> None:
    env().exchange.add_party(
        Party(code, name, timezone, tuple(x.strip() for x in levels.split(",")))
    )


@party.command("list")
@json_option
def party_list(as_json: bool) -> None:
    world = env().exchange.snapshot()
    rows = [
        {"code": p.code, "name": p.name, "timezone": p.timezone, "levels": list(p.levels)}
        for p in world.parties.values()
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table("code", "name", "timezone", "levels (lowest first)")
    for row in rows:
        table.add_row(row["code"], row["name"], row["timezone"], " < ".join(row["levels"]))  # type: ignore[arg-type]
    console.print(table)


@click.group()
def user() -> None:
    """Users: clearance and need-to-know."""


@user.command("add")
@click.argument("user_id")
@click.option("--party", "party_code", required=True)
@click.option("--clearance", required=True, help="A level of the user's own party.")
@click.option("--need-to-know", "ntk", default="", help="Comma-separated topics.")
def user_add(user_id: str, party_code: str, clearance: str, ntk: str) -> None:
    env().exchange.add_user(User(user_id, party_code, clearance, names(ntk)))


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
    purpose: str | None,
    retain_text: str | None,
) -> None:
    if content is not None and content_file is not None:
        raise InvalidInput("give --content or --content-file, not both")
    try:
        body = content_file.read_text(encoding="utf-8") if content_file else (content or "")
    except UnicodeDecodeError:
        raise InvalidInput(f"--content-file: {content_file} is not UTF-8 text") from None
    created = env().at(created_text, "--created")
    retain = parse_instant(retain_text, "--retain-until") if retain_text else None
    env().exchange.add_item(
        Item(
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
    )


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
) -> None:
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
    env().exchange.add_agreement(Agreement(agreement_id, in_force, timezone, terms, hub, title))


@agreement.command("list")
@json_option
def agreement_list(as_json: bool) -> None:
    world = env().exchange.snapshot()
    tz = env().settings.tz
    rows = [
        {
            "id": a.id,
            "parties": sorted(a.terms.parties),
            "hub": a.hub,
            "in_force_from": when(a.in_force_from, tz),
            "term": a.terms.term.text if a.terms.term else None,
            "renewal": a.terms.renewal.value,
            "topics": a.terms.topics.describe(),
            "events": len(world.agreement_events[a.id]),
        }
        for a in world.agreements.values()
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "parties", "hub", "in force from", "term", "renewal", "topics", "events")
    for r in rows:
        table.add_row(
            str(r["id"]),
            ", ".join(r["parties"]),  # type: ignore[arg-type]
            str(r["hub"] or "-"),
            str(r["in_force_from"]),
            str(r["term"] or "indefinite"),
            str(r["renewal"]),
            str(r["topics"]),
            str(r["events"]),
        )
    console.print(table)
