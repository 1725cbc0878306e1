"""The one place that combines policy and store, in one transaction; the only reader of the clock."""

from accord.crypto import EXCHANGE, MasterKey
from accord.service.exchange import Exchange, system_clock

__all__ = ["EXCHANGE", "Exchange", "MasterKey", "system_clock"]
