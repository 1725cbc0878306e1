"""Typed settings for one CLI invocation, from options and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from accord.model.time import zone

DEFAULT_DB = "accord.db"


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str
    tz: ZoneInfo | None

    @classmethod
    def build(cls, db: str | None, tz: str | None) -> Settings:
        target = db or os.environ.get("ACCORD_DB") or DEFAULT_DB
        url = target if "://" in target else f"sqlite:///{target}"
        return cls(url, zone(tz, "--tz") if tz else None)
