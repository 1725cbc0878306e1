"""TAXII 2.1 media types and content negotiation (406 on Accept, 415 on Content-Type)."""

from __future__ import annotations

from accord.api.errors import NotAcceptable, UnsupportedMediaType

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"


def _parse(value: str) -> tuple[str, dict[str, str]]:
    kind, *params = (part.strip() for part in value.split(";"))
    parsed = {}
    for param in params:
        key, _, val = param.partition("=")
        parsed[key.strip().lower()] = val.strip().strip('"')
    return kind.lower(), parsed


def _taxii(kind: str, params: dict[str, str]) -> bool:
    return kind == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def check_accept(header: str | None) -> None:
    """The client must accept TAXII 2.1 JSON (``*/*`` and ``application/*`` do)."""
    if not header:
        return
    for option in header.split(","):
        kind, params = _parse(option)
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*") or _taxii(kind, params):
            return
    raise NotAcceptable(f"this endpoint answers only {TAXII}")


def check_content_type(header: str | None) -> None:
    """A POST body must be TAXII 2.1 JSON."""
    kind, params = _parse(header or "")
    if not _taxii(kind, params):
        raise UnsupportedMediaType(f"the body must be {TAXII}")
