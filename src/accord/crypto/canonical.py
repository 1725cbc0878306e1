"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) for hashing and signing.

The bytes come from the ``rfc8785`` package; this module only turns its refusals into
``InvalidInput`` with a sentence of our own (never the package's exception text).
"""

from __future__ import annotations

import rfc8785

from accord.errors import InvalidInput

_TYPES = "dict with str keys, list, tuple, str, int, float, bool or None"


def canonical_json(value: object) -> bytes:
    """The RFC 8785 serialisation of ``value`` as UTF-8 bytes.

    Refused (``InvalidInput``): NaN and infinite floats, integers beyond ±(2**53 − 1) (not exact
    as an IEEE 754 double, which is what JSON numbers are), strings that are not valid Unicode
    (lone surrogates), keys that are not strings, any other type, and structures nested too
    deeply (or cyclic).
    """
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]
    except rfc8785.FloatDomainError:
        reason = "it contains a float that is NaN or infinite, which JSON cannot represent"
    except rfc8785.IntegerDomainError:
        reason = "it contains an integer outside ±(2**53 − 1), which JSON cannot carry exactly"
    except (rfc8785.CanonicalizationError, UnicodeError):
        reason = f"it contains a key that is not a string, a string that is not valid Unicode, or a value that is not a {_TYPES}"
    except RecursionError:
        reason = "it is nested too deeply (or refers to itself)"
    raise InvalidInput(f"this value cannot be written as canonical JSON (RFC 8785): {reason}")
