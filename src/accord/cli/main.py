"""``accord``: the command line entry point and its one error boundary."""

from __future__ import annotations

import os
import sys

import click

from accord import __version__
from accord.cli import (
    acts,
    amendments,
    articles,
    audit,
    define,
    inventory,
    keys,
    matters,
    node,
    queries,
    rules,
    scenarios,
    tokens,
)
from accord.cli.context import Env
from accord.cli.demo import demo
from accord.cli.duties import duties
from accord.cli.exits import INTERNAL, exit_code
from accord.cli.feed import feed
from accord.cli.options import attach_global_options, global_options
from accord.cli.replay import replay
from accord.cli.serve import serve
from accord.errors import AccordError


@global_options
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="accord")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """accord: share intelligence only as security agreements allow, at the instant they allow it.

    --db, --key-file, --tz and --create may be given before the command or after it."""
    ctx.ensure_object(Env)


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
    matters.matter,
    articles.reclassify,
    articles.marking,
    articles.investigation,
    articles.release_hold,
    rules.rule,
    duties,
    queries.check,
    queries.read,
    queries.impact,
    queries.readable,
    scenarios.test,
    scenarios.load,
    replay,
    demo,
    serve,
    feed,
    keys.keys,
    node.node,
    audit.audit,
    inventory.token,
):
    cli.add_command(command)
acts.consent.add_command(rules.consent_standing)
define.user.add_command(inventory.user_list)
define.user.add_command(tokens.user_token)
define.user.add_command(tokens.user_revoke)
define.item.add_command(inventory.item_list)
define.topic.add_command(inventory.topic_list)
for agreement_command in (
    acts.notice,
    acts.suspend,
    acts.lift,
    acts.withdraw,
    acts.amend,
    queries.status,
    inventory.agreement_show,
    amendments.propose,
    amendments.accept,
    amendments.withdraw_amendment,
):
    define.agreement.add_command(agreement_command)
attach_global_options(cli)


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
