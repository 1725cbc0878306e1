"""``accord keys``: the exchange's keys — create them, rotate a party's, rotate the master key."""

from __future__ import annotations

from pathlib import Path

import click

from accord.cli.context import env, json_option
from accord.cli.progress import progress_bar
from accord.cli.render import console, emit_json
from accord.errors import InvalidInput


def work_tree_of(path: Path) -> Path | None:
    """The git work tree ``path`` would be inside (a parent holding ``.git``), if any."""
    for folder in path.resolve().parents:
        if (folder / ".git").exists():
            return folder
    return None


def refuse_in_work_tree(path: Path, option: str, force: bool) -> None:
    """A key file inside a git work tree is one `git add .` away from being published."""
    tree = work_tree_of(path)
    if tree is not None and not force:
        raise InvalidInput(
            f"{option}: {path} is inside the git work tree {tree}, where a commit could publish "
            "it; put the key outside it, or give --force"
        )


force_option = click.option(
    "--force", is_flag=True, help="Write the key file even inside a git work tree."
)


@click.group()
def keys() -> None:
    """The exchange's keys: X25519 and Ed25519 per party, sealed under the master key."""


@keys.command("init")
@force_option
@json_option
def init(force: bool, as_json: bool) -> None:
    """Create the exchange's keys and one key set per party. With --key-file (or
    $ACCORD_KEY_FILE) naming a file that does not exist, a new master key is written there
    (mode 0600; refused inside a git work tree unless --force); an existing file, or
    $ACCORD_MASTER_KEY, is used as it is. The store is created if it does not exist."""
    from accord.service import MasterKey

    settings = env().settings
    created = False
    if settings.key_file is not None and not settings.key_file.exists():
        refuse_in_work_tree(settings.key_file, "--key-file", force)
        MasterKey.generate().write(settings.key_file)
        created = True
    try:
        exchange = env().open(create=True)
        origin = exchange.init_keys()
    except BaseException:
        if created and settings.key_file is not None:  # no key that opens nothing is left
            settings.key_file.unlink()
        raise
    key = exchange.verifier_key()
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
    from accord.service import EXCHANGE

    exchange = env().exchange
    with progress_bar(f"rotating {owner}'s keys") as progress:
        version, rewrapped = exchange.rotate_keys(owner, progress=progress)
    if as_json:
        emit_json({"owner": owner, "version": version, "rewrapped": rewrapped})
        return
    console.print(f"{owner}: key version {version}; {rewrapped} copies' keys rewrapped")
    if owner == EXCHANGE:
        console.print(f"new exchange verifier key: {exchange.verifier_key()}")


@keys.command("rotate-master")
@click.option(
    "--new-key-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the new master key (must not exist yet).",
)
@force_option
@json_option
def rotate_master(new_key_file: Path, force: bool, as_json: bool) -> None:
    """Seal every key set under a new master key, written to --new-key-file (refused inside a
    git work tree unless --force). The old key (from --key-file or the environment) must open
    them all; nothing changes if it does not. The old key opens nothing afterwards."""
    from accord.service import MasterKey

    if new_key_file.exists():
        raise InvalidInput(f"--new-key-file: {new_key_file} exists; accord never overwrites a key")
    refuse_in_work_tree(new_key_file, "--new-key-file", force)
    exchange = env().exchange
    new = MasterKey.generate()
    new.write(new_key_file)  # first: the store must never be sealed under a key nobody has
    try:
        count = exchange.rotate_master(new)
    except BaseException:
        new_key_file.unlink()
        raise
    old = env().settings.key_file
    old_where = str(old) if old is not None else "$ACCORD_MASTER_KEY"
    if as_json:
        emit_json(
            {
                "resealed": count,
                "key_file": str(new_key_file),
                "key_id": new.key_id,
                "old_key": old_where,
            }
        )
        return
    console.print(f"{count} key sets resealed; the master key is now {new_key_file} ({new.key_id})")
    console.print(
        f"the old master key ({old_where}) now opens nothing: destroy it, and point "
        "--key-file or $ACCORD_KEY_FILE at the new one"
    )
