"""What every command shares: settings, the exchange, time and list arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from accord.cli.settings import GlobalOptions, Settings
from accord.errors import StoreMissing
from accord.model.time import parse_instant, zone

if TYPE_CHECKING:
    from accord.service import Exchange


@dataclass
class Env:
    """One invocation: the global options as given (before or after the subcommand), the
    settings made of them once the command runs, and the exchange, opened when first needed."""

    options: GlobalOptions = field(default_factory=GlobalOptions)
    _settings: Settings | None = field(default=None, init=False)
    _exchange: Exchange | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.of(self.options)
        return self._settings

    @property
    def exchange(self) -> Exchange:
        """The exchange at ``--db``; a store that does not exist is an error unless ``--create``."""
        if self._exchange is None:
            self._exchange = self.open(create=self.settings.create)
        return self._exchange

    def open(self, *, create: bool) -> Exchange:
        """Open the exchange at ``--db`` (making a new store there only with ``create``)."""
        from accord.service import Exchange

        settings = self.settings
        try:
            self._exchange = Exchange.open(
                settings.db_url, master=settings.master_key, create=create
            )
        except StoreMissing as error:
            raise StoreMissing(
                f"{error.message}; give --create to make a new one, or run `accord keys init`"
            ) from None
        return self._exchange

    def zone(self, tz_text: str | None, default: str | None = None) -> ZoneInfo | None:
        """The zone to show instants in: the command's --tz, the global --tz, else ``default``."""
        if tz_text:
            return zone(tz_text, "--tz")
        if self.settings.tz is not None:
            return self.settings.tz
        return zone(default, "timezone") if default else None

    def at(self, text: str | None, name: str = "--at") -> datetime:
        """``--at`` as an aware instant; now (from the service's clock) when omitted."""
        return self.exchange.instant(parse_instant(text, name) if text else None)


def env() -> Env:
    obj = click.get_current_context().find_object(Env)
    assert obj is not None
    return obj


def names(text: str | None) -> frozenset[str]:
    """A comma-separated list of names."""
    if not text:
        return frozenset()
    return frozenset(part.strip() for part in text.split(",") if part.strip())


at_option = click.option(
    "--at", "at_text", metavar="INSTANT", help="ISO 8601 instant with offset (default: now)."
)
tz_option = click.option(
    "--tz", "tz_text", metavar="ZONE", default=None, help="Show instants in this IANA zone."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
