"""`chainpass desk`: the verification desk's operators (docs/web.md, "The verification desk").
Each operator signs in to the desk (``chainpass serve --desk-as ACCOUNT``) with a secret of
their own, shown once when made; HOME keeps only its salted scrypt hash."""

from __future__ import annotations

import click

from chainpass.cli.common import emit, json_option, settings
from chainpass.web.operators import Operators, operators_path


def _operators() -> Operators:
    return Operators(operators_path(settings().home))


@click.group()
def desk() -> None:
    """The verification desk's operators: add, remove, list."""


@desk.command("add-operator")
@click.argument("name")
@json_option
def add_operator(name: str, as_json: bool) -> None:
    """Add operator NAME (or give them a new secret, which ends the old one) and print their
    secret, once: hand it to them; only its hash is kept."""
    operators = _operators()
    secret = operators.add(name)
    emit(
        {"operator": name, "secret": secret, "file": str(operators.path)},
        f"Desk operator {name}'s secret (shown only now; give it to them): {secret}",
        as_json,
    )


@desk.command("remove-operator")
@click.argument("name")
@json_option
def remove_operator(name: str, as_json: bool) -> None:
    """Remove operator NAME: their secret and sessions stop working at once."""
    _operators().remove(name)
    emit({"operator": name, "removed": True}, f"Removed desk operator {name}.", as_json)


@desk.command("operators")
@json_option
def list_operators(as_json: bool) -> None:
    """List the desk's operators (names and when they were added; never a secret)."""
    found = _operators().all()
    data = [{"operator": o.name, "added": o.added} for o in found.values()]
    lines = [f"{o.name} (added {o.added})" for o in found.values()] or ["No desk operator yet."]
    emit(data, "\n".join(lines), as_json)
