"""`chainpass emergency`: the guardian's stop, and the governor's all-clear.

Both contracts can be paused by their guardian in an incident (a stolen authority key,
a bug under attack): while paused nothing that adds trust can be written, and
everything that takes trust away still works (recalls, suspensions, revocations,
cancellations), as do governance and every read (docs/operations.md lists the
functions). Only the governor unpauses: with a timelock governor, that is a proposal
(`chainpass governance propose call IdentityRegistry unpause --out FILE`, and the same
for ProductPassport).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from web3.types import TxReceipt

from chainpass.chain import Sender, sender_address
from chainpass.cli.common import AddressType, account_option, emit, json_option, settings, tx_fields, unchanged
from chainpass.contract_client import ContractClient
from chainpass.deployment import load_deployment
from chainpass.errors import InvalidInput
from chainpass.identity import IdentityRegistry
from chainpass.passport import ProductPassports

#: The contracts an emergency command acts on, by the name the operator types.
CONTRACTS: dict[str, type[ContractClient]] = {"registry": IdentityRegistry, "passports": ProductPassports}


def _clients(which: str) -> dict[str, ContractClient]:
    """The contracts ``which`` names (``both``: each), by name, from the deployment record."""
    options = settings()
    chain = options.connect()
    deployment = load_deployment(chain, options.store)
    names = list(CONTRACTS) if which == "both" else [which]
    return {name: CONTRACTS[name].from_deployment(chain, deployment) for name in names}


def _sender(clients: dict[str, ContractClient], account: str) -> Sender:
    return settings().sender(next(iter(clients.values())).chain, account)


def _act(
    clients: dict[str, ContractClient],
    sender: Sender,
    as_json: bool,
    what: str,
    send: Callable[[ContractClient, Sender], TxReceipt],
) -> None:
    """Send ``send`` to each of ``clients`` as ``sender``, and print one line (or one JSON
    list) for all: ``what`` happened to each contract, in which block, for how much gas."""
    rows = [{"contract": name, **tx_fields(send(client, sender))} for name, client in clients.items()]
    emit(
        rows,
        lambda: "\n".join(
            f"{what.format(contract=row['contract'])} (block {row['block_number']}, {row['gas_used']:,} gas)"
            for row in rows
        ),
        as_json,
    )


def contract_option(func: Any) -> Any:
    return click.option(
        "--contract",
        "which",
        type=click.Choice([*CONTRACTS, "both"]),
        default="both",
        show_default=True,
        help="Which contract: the identity registry, the passports, or both.",
    )(func)


@click.group()
def emergency() -> None:
    """The emergency stop: the guardian pauses what adds trust, the governor unpauses."""


@emergency.command("status")
@json_option
def status(as_json: bool) -> None:
    """Whether each contract is paused, and who its guardian and governor are."""
    rows = [
        {
            "contract": name,
            "address": client.address,
            "paused": client.paused(),
            "guardian": client.guardian(),
            "governor": client.governor(),
        }
        for name, client in _clients("both").items()
    ]

    def human() -> str:
        return "\n".join(
            f"{row['contract']:<9}  {'PAUSED' if row['paused'] else 'running'}  guardian "
            f"{row['guardian'] or 'none (the governor can name one)'}  governor {row['governor']}"
            for row in rows
        )

    emit(rows, human, as_json)


@emergency.command("pause")
@contract_option
@account_option
@json_option
def pause(which: str, account: str, as_json: bool) -> None:
    """Pause (the guardian's act): nothing that adds trust can be written until the governor
    unpauses; recalls, suspensions, revocations and cancellations go on."""
    clients = {name: client for name, client in _clients(which).items() if not client.paused()}
    if not clients:
        unchanged("Paused already")
    sender = _sender(clients, account)
    _act(clients, sender, as_json, "Paused the {contract}", lambda client, by: client.pause(sender=by))


@emergency.command("unpause")
@contract_option
@account_option
@json_option
def unpause(which: str, account: str, as_json: bool) -> None:
    """Lift the pause (the governor's act; a timelock governor unpauses through a proposal)."""
    clients = {name: client for name, client in _clients(which).items() if client.paused()}
    if not clients:
        unchanged("Not paused")
    sender = _sender(clients, account)
    for name, client in clients.items():
        governor = client.governor()
        if governor != sender_address(sender):
            raise InvalidInput(
                f"{governor} governs the {name}, not {sender_address(sender)}: only the governor unpauses (a "
                f"timelock governor through a proposal: `chainpass governance propose call {client.CONTRACT_NAME} "
                "unpause --out unpause.json`)."
            )
    _act(clients, sender, as_json, "Unpaused the {contract}", lambda client, by: client.unpause(sender=by))


@emergency.command("set-guardian")
@click.argument("guardian", type=AddressType("guardian"), required=False)
@click.option("--none", "clear", is_flag=True, help="Name no guardian: nobody can pause.")
@contract_option
@account_option
@json_option
def set_guardian(guardian: str | None, clear: bool, which: str, account: str, as_json: bool) -> None:
    """Name GUARDIAN as the account that may pause (the governor's act); never the governor."""
    if (guardian is None) == (not clear):
        raise click.UsageError("Give the guardian's address, or --none to name nobody.")
    clients = {name: client for name, client in _clients(which).items() if client.guardian() != guardian}
    if not clients:
        unchanged(f"The guardian is {guardian or 'nobody'} already")
    if guardian is not None and any(client.governor() == guardian for client in clients.values()):
        raise InvalidInput(
            f"{guardian} is the governor: name another account as guardian, so that the one who pauses in "
            "an incident is not the one who lifts the pause."
        )
    _act(
        clients,
        _sender(clients, account),
        as_json,
        "The {contract}'s guardian is now " + (guardian or "nobody"),
        lambda client, by: client.set_guardian(guardian, sender=by),
    )
