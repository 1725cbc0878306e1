"""The kinds of fact a world is made of, each defined once.

A fact is one thing a party vouches for: a user's clearance, an item, a copy received, a note,
a consent. Each kind has one module here holding its type (the model's own dataclass), its
canonical body (a JSON object; the service encodes it as RFC 8785 bytes and signs those), who
must vouch for it (whose Ed25519 signatures it needs), what it is about (what a fact of this
kind that fails its check taints), and how it changes the world. ``registry.DEFINITIONS`` lists
them, one per ``FactKind``: the store keeps every fact in one table, the service signs and
verifies them, the world is rebuilt from them and the audit replay reads them, all through these
definitions.
"""

from __future__ import annotations

from accord.model.facts.definition import EXCHANGE, Definition, FactKind

__all__ = ["EXCHANGE", "Definition", "FactKind"]
