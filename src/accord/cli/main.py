"""``accord``: the command line entry point and its one error boundary."""

from __future__ import annotations

import os
import sys

import click

from accord import __version__
from accord.cli import acts, audit, define, keys, queries, scenarios
from accord.cli import tokens as _tokens  # noqa: F401  (registers user token/revoke)
from accord.cli.context import Env
from accord.cli.demo import demo
from accord.cli.exits import INTERNAL, exit_code
from accord.cli.replay import replay
from accord.cli.serve import serve
from accord.cli.settings import Settings
from accord.errors import AccordError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="accord")
@click.option(
    "--db",
    default=None,
    metavar="PATH|URL",
    help="SQLite file or SQLAlchemy URL (default: $ACCORD_DB or ./accord.db).",
)
@click.option(
    "--tz", default=None, metavar="ZONE", help="Show instants in this IANA zone (default: UTC)."
)
@click.option(
    "--key-file",
    default=None,
    metavar="PATH",
    help="The master key file (default: $ACCORD_KEY_FILE, else the key in $ACCORD_MASTER_KEY).",
)
@click.pass_context
def cli(ctx: click.Context, db: str | None, tz: str | None, key_file: str | None) -> None:
    """accord: share intelligence only as security agreements allow, at the instant they allow it."""
    ctx.obj = Env(Settings.build(db, tz, key_file))


for command in (
    define.topic,
    define.party,
    define.user,
    define.item,
    define.agreement,
    acts.release,
    acts.consent,
    acts.destroy,
    acts.compromise,
    queries.check,
    queries.read,
    queries.impact,
    queries.readable,
    scenarios.test,
    scenarios.load,
    replay,
    demo,
    serve,
    keys.keys,
    audit.audit,
):
    cli.add_command(command)


def main() -> None:
    """Run the CLI; errors become a message on stderr and an exit code from ``cli.exits``."""
    try:
        outcome = cli.main(standalone_mode=False)
        sys.exit(outcome if isinstance(outcome, int) else 0)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)
    except AccordError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(exit_code(error))
    except Exception:
        if os.environ.get("ACCORD_DEBUG"):
            raise
        click.echo(
            "internal error: accord hit a defect; nothing was changed (set ACCORD_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(INTERNAL)
