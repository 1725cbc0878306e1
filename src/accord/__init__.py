"""accord: an agreement-governed intelligence exchange."""

__version__ = "0.1.0"
