"""The global options ``--db``, ``--key-file``, ``--tz`` and ``--create``: accepted before the
subcommand (on the ``accord`` group) and after it (on every command), filling one
``GlobalOptions``; the one given last wins.

``attach_global_options`` adds them to every command of a group, once the commands are all
registered; a command that declares one of them itself (``--tz`` on ``agreement status``) keeps
its own, which ``Env.zone`` reads first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from accord.cli.context import Env


def _store(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """Keep a value that was given (a flag only when set) in the invocation's ``GlobalOptions``."""
    if value is None or value is False or param.name is None:
        return
    options = ctx.ensure_object(Env).options
    setattr(options, param.name, value)


def _db() -> click.Option:
    return click.Option(
        ["--db"],
        metavar="PATH|URL",
        expose_value=False,
        callback=_store,
        help="SQLite file or SQLAlchemy URL (default: $ACCORD_DB or ./accord.db); it must exist "
        "unless --create.",
    )


def _key_file() -> click.Option:
    return click.Option(
        ["--key-file", "key_file"],
        metavar="PATH",
        expose_value=False,
        callback=_store,
        help="The master key file (default: $ACCORD_KEY_FILE, else the key in $ACCORD_MASTER_KEY).",
    )


def _tz() -> click.Option:
    return click.Option(
        ["--tz"],
        metavar="ZONE",
        expose_value=False,
        callback=_store,
        help="Show instants in this IANA zone (default: UTC, or the agreement's zone).",
    )


def _create() -> click.Option:
    return click.Option(
        ["--create"],
        is_flag=True,
        expose_value=False,
        callback=_store,
        help="Make a new, empty store at --db if there is none (otherwise a missing store is an "
        "error, exit 3).",
    )


AnyCommand = TypeVar("AnyCommand", bound=click.Command)

GLOBAL_OPTIONS: tuple[Callable[[], click.Option], ...] = (_db, _key_file, _tz, _create)


def global_options(command: AnyCommand) -> AnyCommand:
    """Add the global options to ``command`` (the ``accord`` group itself)."""
    command.params.extend(make() for make in GLOBAL_OPTIONS)
    return command


def attach_global_options(group: click.Group) -> None:
    """Add the global options to every command under ``group``, at any depth."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            attach_global_options(command)
            continue
        taken = {flag for param in command.params for flag in getattr(param, "opts", ())}
        for make in GLOBAL_OPTIONS:
            option = make()
            if not taken.intersection(option.opts):
                command.params.append(option)
