"""A scenario's expectations: questions asked at an instant and the answers it expects.

A question about an item before it exists is not an error: the runner decides it, and the
answer is a denial (``not-held``).
"""

from __future__ import annotations

from accord.model.requests import ReadRequest, ReleaseRequest
from accord.scenario.articles import ARTICLE_CHECKS
from accord.scenario.entry import Entry
from accord.scenario.references import References
from accord.scenario.spec import ArticleCheck, Expectation
from accord.scenario.standing import feed_expectation, route_expectation


def expectations(entries: list[Entry], refs: References) -> tuple[Expectation | ArticleCheck, ...]:
    """Every expectation, in file order."""
    return tuple(_any_expectation(entry, refs) for entry in entries)


def _any_expectation(entry: Entry, refs: References) -> Expectation | ArticleCheck:
    article = ARTICLE_CHECKS.get(entry.text("check"))
    return article(entry, refs) if article is not None else expectation(entry, refs)


def expectation(entry: Entry, refs: References) -> Expectation:
    check = entry.text("check")
    at = entry.instant("at")
    if check == "condition":
        return condition_expectation(entry, refs)
    if check == "route":
        return route_expectation(entry, refs)
    if check == "feed":
        return feed_expectation(entry, refs)
    if check == "agreement":
        return Expectation(
            line=entry.line,
            at=at,
            check=check,
            request=refs.agreement(entry).id,
            status=entry.text("status"),
            expires_at=entry.optional_instant("expires_at"),
            term_end=entry.optional_instant("term_end"),
            written_zone=entry.written_zone("at"),
        )
    request: ReleaseRequest | ReadRequest
    if check == "release":
        via = refs.optional_party(entry, "via")
        request = ReleaseRequest(
            item=refs.item(entry).id,
            from_party=refs.party(entry, "from").code,
            to_party=refs.party(entry, "to").code,
            via=via.code if via is not None else None,
        )
    else:
        request = ReadRequest(user=refs.user(entry).id, item=refs.item(entry).id)
    return Expectation(
        line=entry.line,
        at=at,
        check=check,
        request=request,
        decision=entry.text("decision"),
        reason=entry.optional_text("reason"),
        written_zone=entry.written_zone("at"),
    )


def condition_expectation(entry: Entry, refs: References) -> Expectation:
    """``{at, check: condition, agreement, holds, matter?}`` (R15)."""
    matter = refs.matter(entry).id if entry.has("matter") else None
    return Expectation(
        line=entry.line,
        at=entry.instant("at"),
        check="condition",
        request=refs.agreement(entry).id,
        holds=bool(entry.data.get("holds")),
        matter=matter,
    )
