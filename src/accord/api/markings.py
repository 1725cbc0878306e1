"""Marking definitions: national classification as a STIX 2.1 extension-definition, a
releasable-to marking per party, TLP 2.0 (recognised on input), and the identities that sign them.

Every id here is deterministic (uuid5 in ``STIX_NAMESPACE``), so clients can compute them and
they are the same in every process. The extension's JSON schema is ``CLASSIFICATION_SCHEMA``
(also in ``docs/stix-classification-extension.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from accord.model.party import Party
from accord.service.taxii import derived_id

CREATED = "2014-01-01T00:00:00.000Z"  # fixed: definitions never change
EXTENSION_NAME = "accord national classification"
EXTENSION_ID = derived_id("extension-definition", "national-classification/v1")
ACCORD_IDENTITY = derived_id("identity", "accord")

TLP = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
TLP_NO_RELEASE = frozenset({"amber+strict", "red"})

CLASSIFICATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://accord.invalid/stix/national-classification/v1",
    "title": "accord national classification (STIX 2.1 property-extension)",
    "description": (
        "Used in two places. On a marking-definition it states one party's classification "
        "level (marking_type national-classification) or that an object may be released to "
        "one party (marking_type releasable-to). On any other STIX object it gives the item's "
        "topics (read on input) and, on output, the holding's markings per rule R2."
    ),
    "type": "object",
    "required": ["extension_type"],
    "properties": {"extension_type": {"const": "property-extension"}},
    "oneOf": [
        {
            "title": "classification marking",
            "required": ["marking_type", "party", "level", "rank", "scheme"],
            "properties": {
                "marking_type": {"const": "national-classification"},
                "party": {"type": "string", "description": "the party's code, e.g. KOR"},
                "level": {"type": "string", "description": "a level of that party's scheme"},
                "rank": {"type": "integer", "minimum": 0, "description": "0 is the lowest"},
                "scheme": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "the party's levels, lowest first",
                },
            },
        },
        {
            "title": "releasable-to marking",
            "required": ["marking_type", "party"],
            "properties": {
                "marking_type": {"const": "releasable-to"},
                "party": {"type": "string"},
            },
        },
        {
            "title": "object properties",
            "required": ["topics"],
            "not": {"required": ["marking_type"]},
            "properties": {
                "topics": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "originator": {"type": "string"},
                "originator_level": {"type": "string"},
                "holder": {"type": "string"},
                "holder_level": {"type": "string"},
                "releasable_to": {"type": "array", "items": {"type": "string"}},
            },
        },
    ],
}


def classification_id(party: str, level: str) -> str:
    return derived_id("marking-definition", f"classification/{party}/{level}")


def releasable_id(party: str) -> str:
    return derived_id("marking-definition", f"releasable-to/{party}")


def party_identity(party: str) -> str:
    return derived_id("identity", f"party/{party}")


@dataclass(frozen=True, slots=True)
class MarkingIndex:
    """What a marking id means, for the parties of one world."""

    levels: dict[str, tuple[str, str]]  # classification marking id → (party, level)
    releasable: dict[str, str]  # releasable-to marking id → party
    makers: dict[str, str]  # a party's identity id → party

    @classmethod
    def of(cls, parties: dict[str, Party]) -> MarkingIndex:
        return cls(
            {
                classification_id(p.code, level): (p.code, level)
                for p in parties.values()
                for level in p.levels
            },
            {releasable_id(code): code for code in parties},
            {party_identity(code): code for code in parties},
        )

    def known(self, marking_id: str) -> bool:
        return marking_id in self.levels or marking_id in self.releasable or marking_id in TLP


def extension_definition() -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": ACCORD_IDENTITY,
        "created": CREATED,
        "modified": CREATED,
        "name": EXTENSION_NAME,
        "description": "National classification levels and releasability (accord, rules R2, R5).",
        "schema": json.dumps(CLASSIFICATION_SCHEMA, ensure_ascii=False, sort_keys=True),
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def identities(parties: dict[str, Party]) -> list[dict[str, Any]]:
    found = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": ACCORD_IDENTITY,
            "created": CREATED,
            "modified": CREATED,
            "name": "accord",
            "identity_class": "system",
        }
    ]
    for p in parties.values():
        found.append(
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": party_identity(p.code),
                "created": CREATED,
                "modified": CREATED,
                "name": f"{p.name} ({p.code})",
                "identity_class": "organization",
            }
        )
    return found


def classification_marking(party: Party, level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": classification_id(party.code, level),
        "created": CREATED,
        "created_by_ref": party_identity(party.code),
        "name": f"{party.code} {level}",
        "extensions": {
            EXTENSION_ID: {
                "extension_type": "property-extension",
                "marking_type": "national-classification",
                "party": party.code,
                "level": level,
                "rank": party.rank(level),
                "scheme": list(party.levels),
            }
        },
    }


def releasable_marking(party: Party) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": releasable_id(party.code),
        "created": CREATED,
        "created_by_ref": ACCORD_IDENTITY,
        "name": f"REL TO {party.code}",
        "extensions": {
            EXTENSION_ID: {
                "extension_type": "property-extension",
                "marking_type": "releasable-to",
                "party": party.code,
            }
        },
    }


def definitions(parties: dict[str, Party]) -> list[dict[str, Any]]:
    """Every definition object the server publishes, ordered by id."""
    found = [extension_definition(), *identities(parties)]
    for p in parties.values():
        found += [classification_marking(p, level) for level in p.levels]
        found.append(releasable_marking(p))
    return sorted(found, key=lambda o: str(o["id"]))
