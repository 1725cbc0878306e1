"""Builders shared by the policy tests: the 2019 case, small custom worlds, random world specs.

Everything here drives ``accord.model`` and ``accord.policy`` the way the service layer does:
an act is decided first and recorded only when policy allows it. Random world specs are plain
dicts so that the reference oracle (``tests/oracle.py``) can read them without accord's classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import (
    Agreement,
    AgreementEvent,
    EquivalenceTable,
    Renewal,
    Terms,
    TopicScope,
)
from accord.model.item import Item
from accord.model.party import Party
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import Duration, parse_instant, require_aware
from accord.model.user import User
from accord.model.world import World
from accord.policy.acts import decide_compromise, decide_consent, decide_destruction
from accord.policy.facts import Facts
from accord.policy.read import decide_read
from accord.policy.reasons import Decision
from accord.policy.release import decide_release

US = timedelta(microseconds=1)

Instant = str | datetime


def T(value: Instant) -> datetime:
    """An aware instant from ISO 8601 text (with its offset), normalised to UTC."""
    if isinstance(value, datetime):
        return require_aware(value, "test")
    return parse_instant(value, "test")


def D(text: str | None) -> Duration | None:
    return None if text is None else Duration.parse(text, "test")


# --- the 2019 case ----------------------------------------------------------------------------

KOR_LEVELS = ("군사III급비밀", "군사II급비밀", "군사I급비밀")
JPN_LEVELS = ("秘", "極秘", "機密")
USA_LEVELS = ("CONFIDENTIAL", "SECRET", "TOP SECRET")
KOR3, KOR2, KOR1 = KOR_LEVELS
JPN3, JPN2, JPN1 = JPN_LEVELS
US_C, US_S, US_TS = USA_LEVELS

GSOMIA_START = "2016-11-23T00:00:00+09:00"
NOTICE_2019 = "2019-08-23T15:25:00+09:00"
SUSPENSION_2019 = "2019-11-22T18:00:00+09:00"
LAPSE_2019 = "2019-11-23T00:00:00+09:00"  # == 2019-11-22T15:00:00Z


def agreement(
    aid: str,
    parties: Sequence[str],
    start: Instant,
    rows: Sequence[Mapping[str, str]],
    *,
    timezone: str = "Asia/Seoul",
    term: str | None = None,
    renewal: str = "none",
    notice_period: str | None = None,
    topics: Sequence[str] | None = None,
    hub: str | None = None,
) -> Agreement:
    return Agreement(
        aid,
        T(start),
        timezone,
        Terms(
            frozenset(parties),
            EquivalenceTable(tuple(dict(r) for r in rows)),
            TopicScope(None if topics is None else frozenset(topics)),
            D(term),
            Renewal(renewal),
            D(notice_period),
        ),
        hub=hub,
    )


def gsomia(**overrides: Any) -> Agreement:
    """The ROK–Japan GSOMIA of 2016-11-23 with its Art. 4 table (Korea's top level not covered)."""
    fields: dict[str, Any] = {
        "timezone": "Asia/Seoul",
        "term": "P1Y",
        "renewal": "automatic",
        "notice_period": "P90D",
        "topics": None,
    }
    fields.update(overrides)
    start = fields.pop("start", GSOMIA_START)
    rows = fields.pop("rows", ({"KOR": KOR2, "JPN": JPN2}, {"KOR": KOR3, "JPN": JPN3}))
    return agreement("gsomia", ("KOR", "JPN"), start, rows, **fields)


def tisa() -> Agreement:
    """TISA (2014-12-29): KOR and JPN share nk-missile/nk-nuclear only through the US hub."""
    return agreement(
        "tisa",
        ("USA", "KOR", "JPN"),
        "2014-12-29T00:00:00+09:00",
        ({"USA": US_S, "KOR": KOR2, "JPN": JPN2},),
        topics=("nk-missile", "nk-nuclear"),
        hub="USA",
    )


class Exchange:
    """A world plus its policy facts, changed only through acts that policy allows."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.facts = Facts(world)

    # lifecycle
    def check_event(self, event: AgreementEvent) -> Decision:
        timeline = self.facts.timeline(event.agreement)
        return timeline.check(event, self.world.parties, frozenset(self.world.topics))

    def event(self, event: AgreementEvent) -> Decision:
        """Record ``event`` if policy allows it; return the decision either way."""
        decision = self.check_event(event)
        if decision.allowed:
            self.world.add_agreement_event(event)
        return decision

    def must(self, event: AgreementEvent) -> None:
        decision = self.event(event)
        assert decision.allowed, decision.as_dict()

    def status(self, aid: str, at: Instant) -> str:
        return self.facts.state(aid, T(at)).status.value

    # acts
    def check_release(
        self, item: str, frm: str, to: str, at: Instant, via: str | None = None
    ) -> Decision:
        return decide_release(self.facts, ReleaseRequest(item, frm, to, via), T(at))

    def release(
        self, item: str, frm: str, to: str, at: Instant, via: str | None = None
    ) -> Decision:
        """Decide a release and, when allowed, record it with the holdings it creates (R2)."""
        decision = self.check_release(item, frm, to, at, via)
        if decision.allowed:
            for holding in decision.holdings:
                self.world.add_holding(holding)
            self.world.add_release(
                Release(T(at), item, frm, to, via, decision.reasons[0].agreement)
            )
        return decision

    def consent(
        self,
        item: str,
        holder: str,
        to: Sequence[str],
        at: Instant,
        *,
        granted: bool = True,
        by: str | None = None,
    ) -> Decision:
        originator = self.world.item(item).originator
        act = Consent(T(at), item, by or originator, holder, frozenset(to), granted)
        decision = decide_consent(self.facts, act)
        if decision.allowed:
            self.world.add_consent(act)
        return decision

    def destroy(self, item: str, party: str, at: Instant) -> Decision:
        act = Destruction(T(at), item, party)
        decision = decide_destruction(self.facts, act)
        if decision.allowed:
            self.world.add_destruction(act)
        return decision

    def compromise(self, item: str, party: str, at: Instant, description: str) -> Decision:
        report = Compromise(T(at), item, party, description)
        decision = decide_compromise(self.facts, report)
        if decision.allowed:
            self.world.add_compromise(report)
        return decision

    def read(self, user: str, item: str, at: Instant) -> Decision:
        return decide_read(self.facts, ReadRequest(user, item), T(at))


def korea_2019(*, agreements: Sequence[Agreement] | None = None) -> Exchange:
    """KOR, JPN, USA; GSOMIA and TISA (unless ``agreements`` is given); items and users.

    Items (all KOR's unless said): ``report-1`` 군사II급비밀 nk-missile → [JPN, USA];
    ``cyber-1`` 군사II급비밀 cyber → [JPN, USA]; ``top-1`` 군사I급비밀 nk-missile → [JPN, USA];
    ``low-1`` 군사III급비밀 nk-missile → [JPN, USA]; ``kor-only`` 군사II급비밀 nk-missile → [];
    ``jpn-1`` (JPN) 極秘 nk-missile → [KOR, USA].
    """
    world = World()
    for topic in ("nk-missile", "nk-nuclear", "cyber"):
        world.add_topic(topic)
    world.add_party(Party("KOR", "Republic of Korea", "Asia/Seoul", KOR_LEVELS))
    world.add_party(Party("JPN", "Japan", "Asia/Tokyo", JPN_LEVELS))
    world.add_party(Party("USA", "United States", "America/New_York", USA_LEVELS))
    for a in agreements if agreements is not None else (gsomia(), tisa()):
        world.add_agreement(a)
    created = T("2019-06-01T09:00:00+09:00")
    both = frozenset({"JPN", "USA"})
    for iid, originator, level, topics, releasable, when in (
        ("report-1", "KOR", KOR2, {"nk-missile"}, both, T("2019-10-31T17:00:00+09:00")),
        ("cyber-1", "KOR", KOR2, {"cyber"}, both, created),
        ("top-1", "KOR", KOR1, {"nk-missile"}, both, created),
        ("low-1", "KOR", KOR3, {"nk-missile"}, both, created),
        ("kor-only", "KOR", KOR2, {"nk-missile"}, frozenset(), created),
        ("jpn-1", "JPN", JPN2, {"nk-missile"}, frozenset({"KOR", "USA"}), created),
    ):
        world.add_item(Item(iid, originator, level, frozenset(topics), releasable, when, title=iid))
    for uid, party, clearance, ntk in (
        ("kor-analyst", "KOR", KOR2, {"nk-missile"}),
        ("jpn-analyst", "JPN", JPN2, {"nk-missile"}),
        ("jpn-junior", "JPN", JPN3, {"nk-missile"}),
        ("jpn-chief", "JPN", JPN1, {"cyber"}),
        ("jpn-both", "JPN", JPN1, {"nk-missile", "cyber"}),
        ("usa-analyst", "USA", US_S, {"nk-missile", "nk-nuclear"}),
    ):
        world.add_user(User(uid, party, clearance, frozenset(ntk)))
    return Exchange(world)


def two_party(a: Agreement, *, levels: int = 3) -> Exchange:
    """Parties AA and BB (levels AA0<AA1<..., BB0<...), topics t0/t1, one item ``x`` of AA."""
    world = World()
    for topic in ("t0", "t1"):
        world.add_topic(topic)
    for code, tz in (("AA", "America/New_York"), ("BB", "Europe/London")):
        world.add_party(Party(code, code, tz, tuple(f"{code}{i}" for i in range(levels))))
    world.add_agreement(a)
    world.add_item(
        Item("x", "AA", "AA0", frozenset({"t0"}), frozenset({"BB"}), T("2000-01-01T00:00:00Z"))
    )
    return Exchange(world)


# --- random world specs (plain data, read by both production builders and the oracle) ----------

CODES = ("AA", "BB", "CC", "DD")
TOPIC_POOL = ("t0", "t1", "t2")
ZONES = ("UTC", "Asia/Seoul", "America/New_York", "Europe/London")
# whole local hours outside every DST gap/overlap of ZONES, so term ends are unambiguous
HOURS = (0, 9, 12, 18)
TERMS: tuple[tuple[int, int] | None, ...] = (None, (12, 0), (6, 0), (0, 90))
NOTICES: tuple[tuple[int, int] | None, ...] = (None, (0, 90), (0, 30), (3, 0))
EPOCH = datetime(2015, 1, 1, tzinfo=UTC)


def duration_text(value: tuple[int, int] | None) -> str | None:
    """(months, days) as ISO 8601: (12, 0) → P1Y, (6, 0) → P6M, (0, 90) → P90D."""
    if value is None:
        return None
    months, days = value
    assert (months == 0) != (days == 0), "specs use pure month or pure day durations"
    if months:
        return f"P{months // 12}Y" if months % 12 == 0 else f"P{months}M"
    return f"P{days}D"


def _rows(
    draw: st.DrawFn, members: list[str], levels: Mapping[str, list[str]]
) -> list[dict[str, str]]:
    """An order-preserving table by construction: each party's levels strictly increase by row."""
    count = draw(st.integers(1, min(len(levels[p]) for p in members)))
    picks = {
        p: sorted(
            draw(
                st.lists(
                    st.integers(0, len(levels[p]) - 1),
                    min_size=count,
                    max_size=count,
                    unique=True,
                )
            )
        )
        for p in members
    }
    rows = []
    for i in range(count):
        kept = draw(
            st.just(members)
            | st.just(members)
            | st.lists(st.sampled_from(members), min_size=2, max_size=len(members), unique=True)
        )
        rows.append({p: levels[p][picks[p][i]] for p in members if p in kept})
    return rows


def _local(draw: st.DrawFn, tz: str, first: date, last: date) -> datetime:
    day = draw(st.dates(first, last))
    hour = draw(st.sampled_from(HOURS))
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@st.composite
def world_specs(draw: st.DrawFn, *, hub: bool = False) -> dict[str, Any]:
    """2–4 parties of 2–4 levels, 1–3 agreements (some with a hub), users and items.

    With ``hub=True``: 3–4 parties and a first agreement of 3+ members routed through a hub.
    """
    codes = list(CODES[: draw(st.integers(3 if hub else 2, 4))])
    parties = {
        c: {
            "tz": draw(st.sampled_from(ZONES)),
            "levels": [f"{c}{i}" for i in range(draw(st.integers(2, 4)))],
        }
        for c in codes
    }
    levels = {c: p["levels"] for c, p in parties.items()}
    agreements: dict[str, dict[str, Any]] = {}
    for number in range(draw(st.integers(1, 3))):
        forced = hub and number == 0
        members = draw(
            st.lists(st.sampled_from(codes), min_size=3 if forced else 2, max_size=4, unique=True)
        )
        via = None
        if len(members) >= 3 and (forced or draw(st.booleans())):
            via = draw(st.sampled_from(members))
        tz = draw(st.sampled_from(ZONES))
        topics = draw(
            st.none()
            | st.none()
            | st.lists(st.sampled_from(TOPIC_POOL), min_size=1, max_size=3, unique=True).map(sorted)
        )
        agreements[f"ag{number}"] = {
            "parties": sorted(members),
            "hub": via,
            "tz": tz,
            "start": _local(draw, tz, date(2015, 1, 1), date(2016, 6, 30)),
            "term": draw(st.sampled_from(TERMS)),
            "renewal": draw(st.sampled_from([True, True, True, False])),
            "notice": draw(st.sampled_from(NOTICES)),
            "topics": topics,
            "rows": _rows(draw, members, levels),
        }
    users: dict[str, dict[str, Any]] = {}
    for c in codes:
        for i in range(draw(st.integers(0, 2))):
            users[f"u-{c}-{i}"] = {
                "party": c,
                "clearance": draw(st.sampled_from(levels[c])),
                "ntk": sorted(draw(st.sets(st.sampled_from(TOPIC_POOL)))),
            }
    items: dict[str, dict[str, Any]] = {}
    for i in range(draw(st.integers(1, 4))):
        originator = draw(st.sampled_from(codes))
        others = [c for c in codes if c != originator]
        # lean towards levels some table covers and wide caveats, so that releases happen
        shared = [
            row[originator] for a in agreements.values() for row in a["rows"] if originator in row
        ]
        items[f"i{i}"] = {
            "originator": originator,
            "level": draw(st.sampled_from(levels[originator] + shared * 2)),
            "topics": sorted(draw(st.sets(st.sampled_from(TOPIC_POOL), min_size=1, max_size=2))),
            "releasable": sorted(draw(st.just(others) | st.sets(st.sampled_from(others)))),
            "created": _local(
                draw, parties[originator]["tz"], date(2014, 6, 1), date(2016, 12, 31)
            ),
        }
    return {
        "topics": list(TOPIC_POOL),
        "parties": parties,
        "agreements": agreements,
        "users": users,
        "items": items,
    }


def build(spec: Mapping[str, Any]) -> Exchange:
    """The production world for a spec from ``world_specs``."""
    world = World()
    for topic in spec["topics"]:
        world.add_topic(topic)
    for code, p in spec["parties"].items():
        world.add_party(Party(code, f"party {code}", p["tz"], tuple(p["levels"])))
    for aid, a in spec["agreements"].items():
        world.add_agreement(
            agreement(
                aid,
                a["parties"],
                a["start"],
                a["rows"],
                timezone=a["tz"],
                term=duration_text(a["term"]),
                renewal="automatic" if a["renewal"] else "none",
                notice_period=duration_text(a["notice"]),
                topics=a["topics"],
                hub=a["hub"],
            )
        )
    for uid, u in spec["users"].items():
        world.add_user(User(uid, u["party"], u["clearance"], frozenset(u["ntk"])))
    for iid, i in spec["items"].items():
        world.add_item(
            Item(
                iid,
                i["originator"],
                i["level"],
                frozenset(i["topics"]),
                frozenset(i["releasable"]),
                i["created"],
            )
        )
    return Exchange(world)


@dataclass(frozen=True)
class Route:
    """One release question: item, sender, recipient, hub."""

    item: str
    frm: str
    to: str
    via: str | None


def routes(spec: Mapping[str, Any]) -> list[Route]:
    """Every well-formed release question in a spec (sender, hub and recipient distinct)."""
    codes = list(spec["parties"])
    found = []
    for iid in spec["items"]:
        for frm in codes:
            for to in codes:
                if to == frm:
                    continue
                found.append(Route(iid, frm, to, None))
                found.extend(Route(iid, frm, to, via) for via in codes if via not in (frm, to))
    return found
