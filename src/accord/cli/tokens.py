"""``accord user token USER`` and ``accord user revoke TOKEN-ID``: API credentials.

A token is shown once, when it is issued; the store keeps only a slow salted hash of it.
"""

from __future__ import annotations

import click

from accord.cli.context import env, json_option
from accord.cli.render import announce, emit_json
from accord.model.time import Duration, iso


@click.command("token")
@click.argument("user_id")
@click.option("--expires", default="P90D", show_default=True, help="ISO 8601 duration.")
@click.option("--admin", is_flag=True, help="Also allow the admin REST API.")
@json_option
def user_token(user_id: str, expires: str, admin: bool, as_json: bool) -> None:
    """Issue an API token for USER (HTTP Basic with the user id, or Bearer)."""
    from accord.service.credentials import Credentials

    issued = Credentials(env().exchange).issue(
        user_id, Duration.parse(expires, "--expires"), admin=admin
    )
    if as_json:
        emit_json(
            {
                "done": True,
                "summary": f"issued token {issued.token_id} for {issued.user}",
                "token_id": issued.token_id,
                "token": issued.token,
                "user": issued.user,
                "admin": issued.admin,
                "issued_at": iso(issued.issued_at),
                "expires_at": iso(issued.expires_at),
            }
        )
        return
    click.echo(issued.token)
    click.echo(
        f"token {issued.token_id} for {issued.user}{' (admin)' if admin else ''}, expires "
        f"{iso(issued.expires_at)}; it is shown only now",
        err=True,
    )


@click.command("revoke")
@click.argument("token_id")
@json_option
def user_revoke(token_id: str, as_json: bool) -> None:
    """Revoke an API token by its id (the part before the dot)."""
    from accord.service.credentials import Credentials
    from accord.service.inventory import Token

    credentials = Credentials(env().exchange)
    info = credentials.revoke(token_id)
    when_ = iso(info.revoked_at) if info.revoked_at else "-"
    summary = f"revoked token {info.token_id} of {info.user} at {when_}"
    announce(summary, as_json, {"token": Token.of(info, credentials.now()).as_dict()})
