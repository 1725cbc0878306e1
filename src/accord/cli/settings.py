"""Typed settings for one CLI invocation, from the global options and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from accord.errors import KeyUnavailable
from accord.model.time import zone

if TYPE_CHECKING:
    from accord.service import MasterKey

DEFAULT_DB = "accord.db"
DB_ENV = "ACCORD_DB"
KEY_FILE_ENV = "ACCORD_KEY_FILE"
MASTER_KEY_ENV = "ACCORD_MASTER_KEY"


@dataclass
class GlobalOptions:
    """``--db``, ``--key-file``, ``--tz`` and ``--create`` as given, before or after the
    subcommand (the one given last wins); ``None`` when not given."""

    db: str | None = None
    key_file: str | None = None
    tz: str | None = None
    create: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str
    tz: ZoneInfo | None
    key_file: Path | None
    create: bool = False

    @classmethod
    def build(
        cls, db: str | None, tz: str | None, key_file: str | None = None, create: bool = False
    ) -> Settings:
        target = db or os.environ.get(DB_ENV) or DEFAULT_DB
        url = target if "://" in target else f"sqlite:///{target}"
        keys = key_file or os.environ.get(KEY_FILE_ENV) or None
        return cls(url, zone(tz, "--tz") if tz else None, Path(keys) if keys else None, create)

    @classmethod
    def of(cls, options: GlobalOptions) -> Settings:
        return cls.build(options.db, options.tz, options.key_file, options.create)

    def master_key(self) -> MasterKey:
        """The master key: from the key file if one is named, else from $ACCORD_MASTER_KEY."""
        from accord.service import MasterKey

        if self.key_file is not None:
            return MasterKey.from_file(self.key_file)
        if os.environ.get(MASTER_KEY_ENV, "").strip():
            return MasterKey.from_env(MASTER_KEY_ENV)
        raise KeyUnavailable(
            f"no master key: give --key-file PATH, or set ${KEY_FILE_ENV} or ${MASTER_KEY_ENV}"
        )
