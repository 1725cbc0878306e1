"""``accord serve``: the TAXII 2.1 server and the admin API (uvicorn).

``--at INSTANT`` freezes the server's clock at that instant: every read is decided as of then
(JPN's view one second before midnight on 23 November 2019, Korea time, and after it). Writes
dated before the exchange's latest recorded act are refused, so a server frozen in the past is
in effect read-only.
"""

from __future__ import annotations

import click

from accord.cli.context import env
from accord.model.time import parse_instant


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=6000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--at",
    "at_text",
    metavar="INSTANT",
    default=None,
    help="Freeze the server's clock at this ISO 8601 instant (default: the real clock).",
)
@click.option(
    "--max-content-length",
    default=10 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1024),
    help="Largest request body accepted, in bytes (413 above it).",
)
def serve(host: str, port: int, at_text: str | None, max_content_length: int) -> None:
    """Serve TAXII 2.1 (one API root per party at /taxii2/PARTY/) and the admin API."""
    # imported here: the web stack costs half a second, and only this command needs it
    import uvicorn

    from accord.api import ApiSettings, create_app
    from accord.service import Exchange, system_clock

    settings = env().settings
    frozen = parse_instant(at_text, "--at") if at_text else None
    clock = (lambda: frozen) if frozen is not None else system_clock
    exchange = Exchange.open(settings.db_url, clock, settings.master_key, create=settings.create)
    api = ApiSettings(settings.db_url, frozen, max_content_length=max_content_length)
    app = create_app(api, exchange)
    when = f", clock frozen at {at_text}" if frozen is not None else ""
    click.echo(
        f"accord: TAXII 2.1 at http://{host}:{port}/taxii2/ (admin API: /openapi.json){when}"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
