"""STIX 2.1 in and out: items as STIX objects with their markings, and posted objects checked by
hand (the ``stix2`` library is far too slow for the ingest path).

On output an object is exactly what was posted (every custom property kept) plus the markings of
the copy being served (R2): the originator's level, the holder's equivalent level, a
releasable-to marking per party on the caveat, and the classification extension stating them.
Items made without a STIX object are served as a ``report`` built from their metadata and content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from accord.api.errors import BadRequest
from accord.api.markings import (
    EXTENSION_ID,
    TLP,
    TLP_NO_RELEASE,
    MarkingIndex,
    classification_id,
    party_identity,
    releasable_id,
)
from accord.model.item import Holding, Item
from accord.model.time import parse_stix_time, stix_time
from accord.service.taxii import Hit, NewObject, ObjectRef, Outcome, micros

TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# STIX 2.1 cyber-observable types: spec_version is optional on them, created/modified absent
SCO_TYPES = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)


# --- output ---------------------------------------------------------------------------------


def _report(item: Item) -> dict[str, Any]:
    created = stix_time(item.created)
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": "",  # set by the caller from the index
        "created": created,
        "modified": created,
        "created_by_ref": party_identity(item.originator),
        "name": item.title or item.id,
        "description": item.content,
        "published": created,
        "report_types": ["threat-report"],
        "object_refs": [party_identity(item.originator)],
        "external_references": [{"source_name": "accord", "external_id": item.id}],
    }


def marking_refs(item: Item, holding: Holding, releasable_to: frozenset[str]) -> list[str]:
    """The markings of a copy as it stands: originator's level, holder's level (both as the
    latest reclassification made them, R2, Art. 6(g)), releasable-to (R5)."""
    refs = [classification_id(item.originator, holding.originator_level)]
    holder = classification_id(holding.party, holding.level)
    if holder not in refs:
        refs.append(holder)
    refs += [releasable_id(code) for code in sorted(releasable_to)]
    return refs


def stix_object(hit: Hit) -> dict[str, Any]:
    """The STIX object for one readable copy (``hit.item`` carries its content), marked as at
    the request instant; the markings it was posted with are replaced by those."""
    item, holding, meta = hit.item, hit.holding, hit.meta
    assert item is not None
    releasable = item.releasable_to if hit.releasable_to is None else hit.releasable_to
    if meta.derived or item.stix is None:
        obj = _report(item)
        obj["id"] = meta.stix_id
    else:
        obj = dict(item.stix)
    posted = {classification_id(item.originator, item.level)}
    posted |= {releasable_id(code) for code in item.releasable_to}
    refs = [r for r in obj.get("object_marking_refs", ()) if isinstance(r, str) and r not in posted]
    marked = marking_refs(item, holding, releasable)
    obj["object_marking_refs"] = refs + [r for r in marked if r not in refs]
    extensions = dict(obj.get("extensions") or {})
    extensions[EXTENSION_ID] = {
        "extension_type": "property-extension",
        "topics": sorted(item.topics),
        "originator": item.originator,
        "originator_level": holding.originator_level,
        "holder": holding.party,
        "holder_level": holding.level,
        "releasable_to": sorted(releasable),
    }
    obj["extensions"] = extensions
    return obj


def version_of(hit: Hit) -> str:
    """A TAXII version: ``modified``, else ``created``, else the date added."""
    return hit.meta.version or stix_time(hit.date_added)


# --- input ----------------------------------------------------------------------------------


def envelope_objects(body: object) -> list[object]:
    """The ``objects`` of a TAXII envelope."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a TAXII envelope (a JSON object)")
    objects = body.get("objects", [])
    if not isinstance(objects, list):
        raise BadRequest("the envelope's objects must be a list")
    return objects


def identify(obj: object, position: int) -> tuple[str, str, str, datetime | None]:
    """(id, type, version, version instant) of a posted object; a structurally broken object
    (not an object, no valid type and id) makes the whole request a bad request."""
    if not isinstance(obj, dict):
        raise BadRequest(f"objects[{position}] is not a JSON object")
    stix_type, stix_id = obj.get("type"), obj.get("id")
    if not isinstance(stix_type, str) or not TYPE.match(stix_type):
        raise BadRequest(f"objects[{position}] has no valid STIX type")
    if (
        not isinstance(stix_id, str)
        or not stix_id.startswith(f"{stix_type}--")
        or not UUID.match(stix_id[len(stix_type) + 2 :])
    ):
        raise BadRequest(f"objects[{position}] has no valid STIX id for its type")
    version = obj.get("modified", obj.get("created", ""))
    version_text = version if isinstance(version, str) else ""
    return stix_id, stix_type, version_text, parse_stix_time(version_text)


def _common_problems(obj: dict[str, Any], stix_type: str) -> list[str]:
    codes = []
    spec = obj.get("spec_version")
    if (spec is None and stix_type not in SCO_TYPES) or (spec is not None and spec != "2.1"):
        codes.append("not-stix-2.1")
    if stix_type not in SCO_TYPES:
        created, modified = parse_stix_time(obj.get("created")), obj.get("modified")
        if created is None:
            codes.append("invalid-created")
        if stix_type != "marking-definition":
            stamp = parse_stix_time(modified)
            if stamp is None:
                codes.append("invalid-modified")
            elif created is not None and stamp < created:
                codes.append("modified-before-created")
    return codes


def _markings(
    refs: object, party: str, index: MarkingIndex
) -> tuple[list[str], str | None, frozenset[str]]:
    """(problems, level, releasable-to) from an object's ``object_marking_refs``."""
    if refs is None:
        refs = []
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        return ["invalid-markings"], None, frozenset()
    levels = [index.levels[r] for r in refs if r in index.levels]
    own = [level for p, level in levels if p == party]
    codes = []
    if len(own) > 1:
        codes.append("ambiguous-level")
    elif not own:
        codes.append("unknown-level" if levels else "missing-level")
    releasable = frozenset(index.releasable[r] for r in refs if r in index.releasable)
    if releasable and any(TLP.get(r) in TLP_NO_RELEASE for r in refs):
        codes.append("tlp-restricts-release")
    return codes, (own[0] if len(own) == 1 else None), releasable


def _topics(obj: Mapping[str, Any]) -> frozenset[str] | None:
    extensions = obj.get("extensions")
    ours = extensions.get(EXTENSION_ID) if isinstance(extensions, dict) else None
    topics = ours.get("topics") if isinstance(ours, dict) else None
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        return None
    return frozenset(topics)


def new_object(obj: object, position: int, party: str, index: MarkingIndex) -> NewObject | Outcome:
    """A posted object to be originated by ``party``, or its failure with reason codes."""
    stix_id, stix_type, version, stamp = identify(obj, position)
    assert isinstance(obj, dict)
    if stix_type == "marking-definition" and index.known(stix_id):
        return Outcome(stix_id, version, True, ("known-marking",), "")
    codes = _common_problems(obj, stix_type)
    marking_codes, level, releasable = _markings(obj.get("object_marking_refs"), party, index)
    codes += marking_codes
    topics = _topics(obj)
    if topics is None:
        codes.append("missing-topics")
    author = obj.get("created_by_ref")
    if isinstance(author, str) and index.makers.get(author, party) != party:
        # no party but the poster's may be named as an object's maker (decided from the posted
        # object alone, so the answer is the same whether its id is in use or not); a third
        # party's identity (a vendor's, say) is kept as posted
        codes.append("not-originator")
    if codes or level is None or topics is None:
        return Outcome(stix_id, version, False, tuple(codes), "")
    name = obj.get("name")
    return NewObject(
        stix_id,
        stix_type,
        version,
        micros(stamp) if stamp else 0,
        "2.1",
        level,
        topics,
        releasable,
        name if isinstance(name, str) else "",
        obj,
    )


def object_ref(obj: object, position: int) -> ObjectRef:
    """An object named for release: its id and (``modified``/``created``) version."""
    stix_id, _type, version, stamp = identify(obj, position)
    return ObjectRef(stix_id, version, micros(stamp) if stamp else None)
