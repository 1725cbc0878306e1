"""Request bodies: read with a size limit and a deadline, and parsed as strict JSON.

Strict JSON is RFC 8259 and STIX's own limits: no ``NaN`` or ``Infinity``, no number that
overflows a double (``1e400``), no integer outside STIX's range (-2^53+1 .. 2^53-1), no string
that is not Unicode text (bytes that are not UTF-8, a lone surrogate such as ``"\\ud800"``), and nesting at most
``max_depth`` deep. The depth is checked before parsing, without recursion, so a body nested a
million deep costs one pass over its bytes. Anything else is a ``BadRequest`` naming the problem.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from itertools import accumulate
from typing import Any

import anyio

from accord.api.errors import BadRequest, RequestTimeout, TooLarge

STIX_MAX_INT = 2**53 - 1
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_KEEP = b"[]{}"
_OTHER = bytes(b for b in range(256) if b not in _KEEP)
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


async def read_body(chunks: AsyncIterator[bytes], limit: int, timeout: float) -> bytes:
    """The whole body, refused as soon as it passes ``limit`` bytes (413) or takes longer than
    ``timeout`` seconds to arrive (408)."""
    parts: list[bytes] = []
    size = 0
    with anyio.move_on_after(timeout) as scope:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the body is larger than the limit ({limit} bytes)")
            parts.append(chunk)
    if scope.cancelled_caught:
        raise RequestTimeout(f"the body did not arrive within {timeout:g} seconds")
    return b"".join(parts)


def declared_too_large(content_length: str | None, limit: int) -> bool:
    """Whether a ``Content-Length`` header already says the body is over ``limit``."""
    if content_length is None:
        return False
    text = content_length.strip()
    return text.isascii() and text.isdigit() and (len(text) > 18 or int(text) > limit)


def depth(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (strings do not count)."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _OTHER)
    if not brackets:
        return 0
    return max(accumulate(_STEP[b] for b in brackets))


def _constant(name: str) -> Any:
    raise BadRequest(f"the body holds {name}, which JSON does not allow")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"the number {text[:40]} is too large for JSON")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 16 or abs(int(text)) > STIX_MAX_INT:
        raise BadRequest(f"the integer {text[:40]} is outside STIX's range (±(2^53-1))")
    return int(text)


def _check_text(value: Any) -> None:
    """Refuse strings (keys too) that cannot be encoded as UTF-8; iterative, not recursive."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            node.encode("utf-8")
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def parse_json(raw: bytes, max_depth: int) -> Any:
    """The JSON value of ``raw`` under the strict rules above."""
    if depth(raw) > max_depth:
        raise BadRequest(f"the body nests deeper than {max_depth} levels")
    try:
        text = raw.decode("utf-8")  # strictly: ``json.loads`` of bytes would let surrogates pass
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text") from None
    try:
        value = json.loads(
            text, parse_constant=_constant, parse_float=_float, parse_int=_int, strict=True
        )
    except BadRequest:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if _SURROGATE_ESCAPE.search(raw):
        try:
            _check_text(value)
        except UnicodeEncodeError:
            raise BadRequest("the body holds a lone surrogate, which is not text") from None
    return value
