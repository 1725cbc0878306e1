"""``accord keys``: the exchange's keys — create them, rotate a party's, rotate the master key."""

from __future__ import annotations

from pathlib import Path

import click

from accord.cli.context import env, json_option
from accord.cli.render import console, emit_json
from accord.errors import InvalidInput
from accord.service import EXCHANGE, MasterKey


@click.group()
def keys() -> None:
    """The exchange's keys: X25519 and Ed25519 per party, sealed under the master key."""


@keys.command("init")
@json_option
def init(as_json: bool) -> None:
    """Create the exchange's keys and one key set per party. With --key-file (or
    $ACCORD_KEY_FILE) naming a file that does not exist, a new master key is written there
    (mode 0600); an existing file, or $ACCORD_MASTER_KEY, is used as it is."""
    settings = env().settings
    created = False
    if settings.key_file is not None and not settings.key_file.exists():
        MasterKey.generate().write(settings.key_file)
        created = True
    try:
        origin = env().exchange.init_keys()
    except BaseException:
        if created and settings.key_file is not None:  # no key that opens nothing is left
            settings.key_file.unlink()
        raise
    key = env().exchange.verifier_key()
    if as_json:
        emit_json({"origin": origin, "verifier_key": key, "key_file_created": created})
        return
    if created:
        console.print(
            f"wrote a new master key to {settings.key_file} (keep it apart from the store)"
        )
    console.print(f"audit log origin: {origin}")
    console.print(f"exchange verifier key (give it to the parties): {key}")


@keys.command("rotate")
@click.argument("owner")
@json_option
def rotate(owner: str, as_json: bool) -> None:
    """A new key version for party OWNER (or @exchange); its copies' data keys are rewrapped."""
    version, rewrapped = env().exchange.rotate_keys(owner)
    if as_json:
        emit_json({"owner": owner, "version": version, "rewrapped": rewrapped})
        return
    console.print(f"{owner}: key version {version}; {rewrapped} copies' keys rewrapped")
    if owner == EXCHANGE:
        console.print(f"new exchange verifier key: {env().exchange.verifier_key()}")


@keys.command("rotate-master")
@click.option(
    "--new-key-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the new master key (must not exist yet).",
)
@json_option
def rotate_master(new_key_file: Path, as_json: bool) -> None:
    """Seal every key set under a new master key, written to --new-key-file. The old key (from
    --key-file or the environment) must open them all; nothing changes if it does not."""
    if new_key_file.exists():
        raise InvalidInput(f"--new-key-file: {new_key_file} exists; accord never overwrites a key")
    new = MasterKey.generate()
    new.write(new_key_file)  # first: the store must never be sealed under a key nobody has
    try:
        count = env().exchange.rotate_master(new)
    except BaseException:
        new_key_file.unlink()
        raise
    if as_json:
        emit_json({"resealed": count, "key_file": str(new_key_file), "key_id": new.key_id})
        return
    console.print(f"{count} key sets resealed; the master key is now {new_key_file} ({new.key_id})")
