"""HTTP Basic (user id + token) or Bearer token; every failure is the same 401."""

from __future__ import annotations

import base64
import binascii

from accord.errors import Unauthenticated
from accord.service.credentials import Credentials, Principal

CHALLENGE = 'Basic realm="accord", charset="UTF-8", Bearer realm="accord"'


def authenticate(credentials: Credentials, header: str | None) -> Principal:
    if not header:
        raise Unauthenticated("no credentials")
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return credentials.verify(value)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise Unauthenticated("malformed credentials") from None
        user, sep, token = decoded.partition(":")
        if sep and user and token:
            return credentials.verify(token, user)
    raise Unauthenticated("malformed credentials")
