"""One voucher's signature on a fact that several parties must vouch for, as it crosses nodes.

An agreement, or an amendment by mutual written consent (Art. 21(2)), needs the signature of
every party to it, and a fact in a node message carries one. So each party signs a *share*: a
fact of kind ``cosignature`` whose body names the fact (its kind and canonical body) and the
party that signs it (``by``), vouched for by ``by``. A node applies the fact once it holds a
share from every voucher the fact's definition names, its own included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from accord.errors import InvalidInput

KIND = "cosignature"


class ProposalState(StrEnum):
    """Where a proposal to amend an agreement across nodes stands on one node."""

    TO_COUNTERSIGN = "to-countersign"  # a peer's share is held; this node has not signed
    AWAITING = "awaiting"  # this node signed; another voucher's share has not arrived
    APPLIED = "applied"  # every voucher's share is held and verified: the amendment applies


@dataclass(frozen=True, slots=True)
class Share:
    """``by``'s signature share on the fact of ``kind`` with canonical ``body`` (its text)."""

    kind: str
    body: str
    by: str

    def encode(self) -> dict[str, Any]:
        return {"kind": self.kind, "body": self.body, "by": self.by}


def decode(doc: Mapping[str, Any]) -> Share:
    """The share a ``cosignature`` body holds; ``InvalidInput`` if it is not one."""
    if not isinstance(doc, Mapping) or set(doc) != {"kind", "body", "by"}:
        raise InvalidInput("a cosignature body has exactly kind, body and by")
    kind, body, by = doc["kind"], doc["body"], doc["by"]
    if not all(isinstance(v, str) and v for v in (kind, body, by)):
        raise InvalidInput("a cosignature's kind, body and by are non-empty text")
    try:
        json.loads(body)
    except ValueError:
        raise InvalidInput("a cosignature's body is the JSON text of a fact's body") from None
    return Share(kind, body, by)
