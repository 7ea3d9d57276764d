"""`chainpass account`: encrypted keystores for operators and holders."""

from __future__ import annotations

import os
import sys

import click

from chainpass.cli.common import emit, json_option, password, settings
from chainpass.errors import InvalidInput

#: The environment variable a script may pass a private key to import in.
PRIVATE_KEY_ENV = "CHAINPASS_PRIVATE_KEY"


@click.group()
def account() -> None:
    """Encrypted keystore accounts (the format geth and `ape accounts` use)."""


@account.command("new")
@click.argument("name")
@json_option
def new(name: str, as_json: bool) -> None:
    """Create account NAME with a new random key; the password is asked for twice."""
    keystores = settings().keystores
    keystores.path(name)  # refuse a bad name before asking for a password
    entry = keystores.create(name, password(f"Password for the new account {name!r}", confirm=True))
    emit({"name": entry.name, "address": entry.address, "keystore": str(entry.path)},
         f"Created account {entry.name}: {entry.address} ({entry.path})", as_json)  # fmt: skip


@account.command("import")
@click.argument("name")
@json_option
def import_(name: str, as_json: bool) -> None:
    """Import a private key as account NAME (key from a hidden prompt or $CHAINPASS_PRIVATE_KEY)."""
    keystores = settings().keystores
    keystores.path(name)
    key = os.environ.get(PRIVATE_KEY_ENV)
    if key is None:
        if not sys.stdin.isatty():
            raise InvalidInput(f"No terminal to ask for the key: set {PRIVATE_KEY_ENV} in the environment.")
        key = str(click.prompt("Private key (hex)", hide_input=True))
    entry = keystores.import_key(name, key, password(f"Password for account {name!r}", confirm=True))
    emit({"name": entry.name, "address": entry.address, "keystore": str(entry.path)},
         f"Imported account {entry.name}: {entry.address} ({entry.path})", as_json)  # fmt: skip


@account.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the keystore accounts."""
    entries = settings().keystores.list()
    data = [{"name": e.name, "address": e.address, "keystore": str(e.path)} for e in entries]
    human = "\n".join(f"{e.name:<20} {e.address}" for e in entries) or "No accounts yet: `chainpass account new NAME`."
    emit(data, human, as_json)
