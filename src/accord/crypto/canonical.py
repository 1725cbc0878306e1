"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) for hashing and signing.

The bytes come from the ``rfc8785`` package, except on the fast path: for values made only of
dicts with string keys, lists, strings, bools, None and integers within ±(2**53 − 1) (what
accord's own records are), whose output has no character beyond U+FFFF, RFC 8785 and the
standard library's sorted, compact, non-ASCII-escaping ``json.dumps`` write the same bytes —
keys sort the same by UTF-16 code unit and by code point below U+10000, strings escape the same
characters the same way, integers print the same. ``tests/test_crypto_signing.py`` checks that
against ``rfc8785`` with hypothesis. Anything else (floats, larger integers, other keys, characters beyond U+FFFF) goes to
``rfc8785``. Refusals become
``InvalidInput`` with a sentence of our own (never the package's exception text).
"""

from __future__ import annotations

import json
import re

import rfc8785

from accord.errors import InvalidInput

_TYPES = "dict with str keys, list, tuple, str, int, float, bool or None"


_LIMIT = 2**53 - 1
_ASTRAL_LEAD = re.compile(rb"[\xf0-\xf4]")  # the first byte of a 4-byte UTF-8 sequence
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


def _plain(value: object, depth: int = 0) -> bool:
    """Whether ``value`` is in the domain where ``json.dumps`` is RFC 8785 (see the module).

    Written as plain loops (no generators, strings skipped without a call): it runs on every
    record accord hashes or signs."""
    kind = type(value)
    if kind is str or value is None or value is True or value is False:
        return True
    if kind is int:
        return -_LIMIT <= value <= _LIMIT  # type: ignore[operator]
    if depth > 64:
        return False
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:  # keys beyond U+FFFF: checked on the output, see below
                return False
            if type(item) is not str and not _plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:  # type: ignore[attr-defined]  # noqa: SIM110 (a loop: no generator)
            if type(item) is not str and not _plain(item, depth + 1):
                return False
        return True
    return False


def canonical_json(value: object) -> bytes:
    """The RFC 8785 serialisation of ``value`` as UTF-8 bytes.

    Refused (``InvalidInput``): NaN and infinite floats, integers beyond ±(2**53 − 1) (not exact
    as an IEEE 754 double, which is what JSON numbers are), strings that are not valid Unicode
    (lone surrogates), keys that are not strings, any other type, and structures nested too
    deeply (or cyclic).
    """
    if _plain(value):
        text = _encode(value)
        # A key with a character beyond U+FFFF sorts differently by UTF-16 code unit: if the
        # output has no such character anywhere (in UTF-8, no 4-byte sequence, whose first
        # byte is F0 to F4), no key has one (else rfc8785 writes it).
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not valid Unicode, refused below
            data = None
        if data is not None and (text.isascii() or _ASTRAL_LEAD.search(data) is None):
            return data
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
