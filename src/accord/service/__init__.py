"""The one place that combines policy and store, in one transaction; the only reader of the clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.service.exchange import Exchange, system_clock

if TYPE_CHECKING:
    from accord.crypto import EXCHANGE, MasterKey

__all__ = ["EXCHANGE", "Exchange", "MasterKey", "system_clock"]


def __getattr__(name: str) -> object:
    """``EXCHANGE`` and ``MasterKey`` come from the crypto stack, imported only when asked for
    (a question that decrypts nothing never loads it)."""
    if name in ("EXCHANGE", "MasterKey"):
        import accord.crypto  # noqa: PLC0415

        return getattr(accord.crypto, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
