"""The one place that combines policy and store, in one transaction; the only reader of the clock."""

from accord.service.exchange import Exchange, system_clock

__all__ = ["Exchange", "system_clock"]
