"""`chainpass consent`: consent to relying parties, and gasless signed actions.

A holder without ETH signs typed data (with `consent sign`, or any wallet's
eth_signTypedData_v4) and anyone relays it (`consent relay`) and pays the gas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from chainpass.chain import sender_address
from chainpass.cli.common import (
    HOLDER,
    MAX_HOURS,
    AddressType,
    account_option,
    acting,
    days_option,
    emit,
    end_time,
    hours_from,
    iso_time,
    json_option,
    output_path,
    read_text,
    report,
    settings,
    unchanged,
)
from chainpass.errors import InvalidInput
from chainpass.files import write_json_atomic
from chainpass.identity import IdentityRegistry
from chainpass.signatures import SignedAction, TypedAction, load_typed_action, parse_signature

RELYING_PARTY = AddressType("relying party")
DEFAULT_CONSENT_DAYS = 365


def _iso(timestamp: int) -> str:
    return iso_time(timestamp)


def _until_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = days_option("--days", f"Consent for N days [default: {DEFAULT_CONSENT_DAYS}].")(func)
    return click.option("--until", "until_date", help="Consent until this date, YYYY-MM-DD (UTC midnight).")(func)


def _until(registry: IdentityRegistry, until_date: str | None, days: int | None) -> int:
    now = registry.chain.latest_timestamp()
    return end_time(until_date, days, now, default_days=DEFAULT_CONSENT_DAYS, names="--until/--days")


@click.group()
def consent() -> None:
    """Holders' consent to relying parties; typed data to sign; relaying signatures."""


@consent.command("grant")
@click.argument("relying_party", type=RELYING_PARTY)
@_until_options
@account_option
@json_option
def grant(relying_party: str, until_date: str | None, days: int | None, account: str, as_json: bool) -> None:
    """The holder --account consents to checks by RELYING_PARTY (the holder pays gas)."""
    registry, sender = acting(account)
    until = _until(registry, until_date, days)
    if registry.consent_until(sender_address(sender), relying_party) == until:
        unchanged(f"{sender_address(sender)} consents to {relying_party} until {_iso(until)} already")
    receipt = registry.grant_consent(relying_party, until, sender=sender)
    report(
        f"Consent to {relying_party} until {_iso(until)}", receipt, as_json, relying_party=relying_party, until=until
    )


@consent.command("withdraw")
@click.argument("relying_party", type=RELYING_PARTY)
@account_option
@json_option
def withdraw(relying_party: str, account: str, as_json: bool) -> None:
    """The holder --account withdraws its consent to RELYING_PARTY (the holder pays gas)."""
    registry, sender = acting(account)
    if registry.consent_until(sender_address(sender), relying_party) == 0:
        unchanged(f"{sender_address(sender)} has no consent for {relying_party} to withdraw")
    receipt = registry.withdraw_consent(relying_party, sender=sender)
    report(f"Withdrew consent to {relying_party}", receipt, as_json, relying_party=relying_party)


@consent.command("cancel-signatures")
@account_option
@json_option
def cancel_signatures(account: str, as_json: bool) -> None:
    """The holder --account voids every signature it handed out and that was not used yet."""
    registry, sender = acting(account)
    receipt = registry.cancel_signatures(sender=sender)
    report("Cancelled all outstanding signatures", receipt, as_json)


@consent.command("status")
@click.argument("holder", type=HOLDER)
@click.argument("relying_party", type=RELYING_PARTY)
@json_option
def status(holder: str, relying_party: str, as_json: bool) -> None:
    """Until when HOLDER consents to checks by RELYING_PARTY."""
    registry = settings().registry()
    until = registry.consent_until(holder, relying_party)
    in_force = until > registry.chain.latest_timestamp()
    data = {"holder": holder, "relying_party": relying_party, "until": until, "in_force": in_force}
    if in_force:
        human = f"{holder} consents to {relying_party} until {_iso(until)}."
    else:
        human = f"{holder} has no consent in force for {relying_party}."
    emit(data, human, as_json)


# ------------------------------------------------------------------ typed data


@consent.group("typed-data")
def typed_data() -> None:
    """Print a holder action as eth_signTypedData_v4 JSON, for any wallet to sign."""


def _deadline_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--out", type=click.Path(path_type=Path), help="Write the JSON here instead of stdout.")(func)
    return click.option(
        "--deadline-hours", type=click.IntRange(1, MAX_HOURS), default=24, show_default=True,
        help="The signature is void after this many hours.",
    )(func)  # fmt: skip


def _print_typed(build: Callable[[IdentityRegistry, int], TypedAction], deadline_hours: int, out: Path | None) -> None:
    if out is not None:
        output_path(out, "--out")
    registry = settings().registry()
    deadline = hours_from(registry.chain.latest_timestamp(), deadline_hours, "--deadline-hours")
    document = build(registry, deadline).to_json()
    if out is None:
        click.echo(json.dumps(document, indent=2))
    else:
        write_json_atomic(out, document)
        click.echo(f"Wrote {document['primaryType']} typed data to {out}", err=True)


@typed_data.command("grant")
@click.argument("holder", type=HOLDER)
@click.argument("relying_party", type=RELYING_PARTY)
@_until_options
@_deadline_options
def typed_grant(holder: str, relying_party: str, until_date: str | None, days: int | None, deadline_hours: int,
                out: Path | None) -> None:  # fmt: skip
    """HOLDER consents to checks by RELYING_PARTY."""
    _print_typed(
        lambda r, deadline: r.typed_grant_consent(
            holder, relying_party, _until(r, until_date, days), deadline=deadline
        ),
        deadline_hours,
        out,
    )


@typed_data.command("withdraw")
@click.argument("holder", type=HOLDER)
@click.argument("relying_party", type=RELYING_PARTY)
@_deadline_options
def typed_withdraw(holder: str, relying_party: str, deadline_hours: int, out: Path | None) -> None:
    """HOLDER withdraws its consent to RELYING_PARTY."""
    _print_typed(lambda r, d: r.typed_withdraw_consent(holder, relying_party, deadline=d), deadline_hours, out)


@typed_data.command("cancel-signatures")
@click.argument("holder", type=HOLDER)
@_deadline_options
def typed_cancel_signatures(holder: str, deadline_hours: int, out: Path | None) -> None:
    """HOLDER voids all its outstanding signatures."""
    _print_typed(lambda r, d: r.typed_cancel_signatures(holder, deadline=d), deadline_hours, out)


@typed_data.command("rotate")
@click.argument("holder", type=HOLDER)
@click.argument("new_holder", type=AddressType("new holder"))
@_deadline_options
def typed_rotate(holder: str, new_holder: str, deadline_hours: int, out: Path | None) -> None:
    """HOLDER moves its identity to its new wallet NEW_HOLDER."""
    _print_typed(lambda r, d: r.typed_rotate(holder, new_holder, deadline=d), deadline_hours, out)


@typed_data.command("cancel-recovery")
@click.argument("holder", type=HOLDER)
@_deadline_options
def typed_cancel_recovery(holder: str, deadline_hours: int, out: Path | None) -> None:
    """HOLDER's old key objects to a pending recovery."""
    _print_typed(lambda r, d: r.typed_cancel_recovery(holder, deadline=d), deadline_hours, out)


# ---------------------------------------------------------- sign and relay


@consent.command("sign")
@click.argument("typed_data_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Write typed data + signature here, ready to relay.")
@account_option
@json_option
def sign(typed_data_file: Path, out: Path | None, account: str, as_json: bool) -> None:
    """Sign TYPED_DATA_FILE with the holder's keystore account (--account NAME); offline, no gas."""
    if out is not None:
        output_path(out, "--out")
    action = load_typed_action(read_text(typed_data_file, "typed data"))
    signer = settings().keystore_account(account)
    signed = action.sign(signer)
    if out is not None:
        write_json_atomic(out, signed.to_json())
    emit(signed.to_json(), "0x" + signed.signature.hex(), as_json)


@consent.command("relay")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--signature", help="The holder's signature (0x...), if FILE is bare typed data.")
@account_option
@json_option
def relay(file: Path, signature: str | None, account: str, as_json: bool) -> None:
    """Submit a holder's signed action from FILE and pay its gas (--account: the relayer)."""
    text = read_text(file, "signed action")
    action = load_typed_action(text)
    if signature is None:
        document = json.loads(text)  # load_typed_action read it as JSON already
        if not isinstance(document, dict) or "signature" not in document:
            raise InvalidInput("FILE holds no signature: pass --signature 0x... (from the holder's wallet).")
        signature = str(document["signature"])
    registry, sender = acting(account)
    receipt = registry.relay(SignedAction(action, parse_signature(signature)), sender=sender)
    report(f"Relayed {action.primary_type} for {action.holder}", receipt, as_json,
            message=action.primary_type, holder=action.holder)  # fmt: skip
