"""Typed settings for one CLI invocation, from options and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from accord.errors import KeyUnavailable
from accord.model.time import zone
from accord.service import MasterKey

DEFAULT_DB = "accord.db"
KEY_FILE_ENV = "ACCORD_KEY_FILE"
MASTER_KEY_ENV = "ACCORD_MASTER_KEY"


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str
    tz: ZoneInfo | None
    key_file: Path | None

    @classmethod
    def build(cls, db: str | None, tz: str | None, key_file: str | None = None) -> Settings:
        target = db or os.environ.get("ACCORD_DB") or DEFAULT_DB
        url = target if "://" in target else f"sqlite:///{target}"
        keys = key_file or os.environ.get(KEY_FILE_ENV) or None
        return cls(url, zone(tz, "--tz") if tz else None, Path(keys) if keys else None)

    def master_key(self) -> MasterKey:
        """The master key: from the key file if one is named, else from $ACCORD_MASTER_KEY."""
        if self.key_file is not None:
            return MasterKey.from_file(self.key_file)
        if os.environ.get(MASTER_KEY_ENV, "").strip():
            return MasterKey.from_env(MASTER_KEY_ENV)
        raise KeyUnavailable(
            f"no master key: give --key-file PATH, or set ${KEY_FILE_ENV} or ${MASTER_KEY_ENV}"
        )
