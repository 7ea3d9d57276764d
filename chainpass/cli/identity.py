"""`chainpass identity`: govern, verify, check, disclose, audit."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from chainpass.attributes import Credential, Disclosure
from chainpass.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NEGATIVE,
    HOLDER,
    AddressType,
    account_option,
    acting,
    days_option,
    emit,
    end_time,
    json_option,
    output_path,
    read_json,
    report,
    settings,
    unchanged,
)
from chainpass.enums import Level, Sector, Status, SuspensionReason
from chainpass.errors import ContractRevert, InsufficientFunds, Interrupted, InvalidInput
from chainpass.fees import FeeCapExceeded
from chainpass.files import write_bytes_atomic, write_json_atomic
from chainpass.identity import IdentityRegistry, SuspensionNote
from chainpass.standards.qr import qr_code, qr_format, render


@click.group()
def identity() -> None:
    """Verified identity: appoint, verify, suspend, check, disclose, audit."""


@identity.command("appoint-authority")
@click.argument("address", type=AddressType("authority"))
@click.option("--max-level", required=True, type=click.Choice([m.label for m in Level if m.value]))
@account_option
@json_option
def appoint_authority(address: str, max_level: str, account: str, as_json: bool) -> None:
    """Appoint ADDRESS as an authority that may verify up to --max-level (governor only)."""
    registry, sender = acting(account)
    current = registry.authority(address)
    if current.active and current.max_level.label == max_level:
        unchanged(f"{address} is an authority up to {max_level} already")
    receipt = registry.appoint_authority(address, max_level, sender=sender)
    report(f"Appointed authority {address} (up to {max_level})", receipt, as_json, authority=address)


@identity.command("remove-authority")
@click.argument("address", type=AddressType("authority"))
@account_option
@json_option
def remove_authority(address: str, account: str, as_json: bool) -> None:
    """Remove authority ADDRESS; its holders stand as issuer_removed (governor only)."""
    registry, sender = acting(account)
    if not registry.authority(address).active:
        unchanged(f"{address} is not an authority")
    receipt = registry.remove_authority(address, sender=sender)
    report(f"Removed authority {address}", receipt, as_json, authority=address)


@identity.command("rotate-authority-key")
@click.argument("address", type=AddressType("authority"))
@click.argument("new_key", type=AddressType("new key"))
@account_option
@json_option
def rotate_authority_key(address: str, new_key: str, account: str, as_json: bool) -> None:
    """Give authority ADDRESS the signing key NEW_KEY; its holders are untouched (governor only)."""
    registry, sender = acting(account)
    receipt = registry.rotate_authority_key(address, new_key, sender=sender)
    report(f"Authority {address} now signs with {new_key}", receipt, as_json, authority=address, key=new_key)


@identity.command("hand-over-authority")
@click.argument("removed", type=AddressType("removed authority"))
@click.argument("successor", type=AddressType("successor"))
@account_option
@json_option
def hand_over_authority(removed: str, successor: str, account: str, as_json: bool) -> None:
    """Hand the holders of the removed authority REMOVED to SUCCESSOR, in one step (governor only)."""
    registry, sender = acting(account)
    receipt = registry.hand_over_authority(removed, successor, sender=sender)
    report(f"{successor} now acts for the holders of {removed}", receipt, as_json, removed=removed, successor=successor)


@identity.command("declare-compromise")
@click.argument("address", type=AddressType("authority"))
@click.option("--since", "since", required=True, type=int, help="Unix time from which the key was the attacker's.")
@account_option
@json_option
def declare_compromise(address: str, since: int, account: str, as_json: bool) -> None:
    """Declare authority ADDRESS's retired key compromised from --since (governor only)."""
    registry, sender = acting(account)
    receipt = registry.declare_compromise(address, since, sender=sender)
    report(f"Declared the retired key of {address} compromised since {since}", receipt, as_json, authority=address)


@identity.command("appoint-relying-party")
@click.argument("address", type=AddressType("relying party"))
@click.option("--sector", required=True, type=click.Choice([m.label for m in Sector if m.value]))
@account_option
@json_option
def appoint_relying_party(address: str, sector: str, account: str, as_json: bool) -> None:
    """Appoint ADDRESS as a relying party of --sector (governor only)."""
    registry, sender = acting(account)
    current = registry.relying_party(address)
    if current.active and current.sector.label == sector:
        unchanged(f"{address} is a relying party of the {sector} sector already")
    receipt = registry.appoint_relying_party(address, sector, sender=sender)
    report(f"Appointed relying party {address} ({sector})", receipt, as_json, relying_party=address)


@identity.command("remove-relying-party")
@click.argument("address", type=AddressType("relying party"))
@account_option
@json_option
def remove_relying_party(address: str, account: str, as_json: bool) -> None:
    """Remove relying party ADDRESS (governor only)."""
    registry, sender = acting(account)
    if not registry.relying_party(address).active:
        unchanged(f"{address} is not a relying party")
    receipt = registry.remove_relying_party(address, sender=sender)
    report(f"Removed relying party {address}", receipt, as_json, relying_party=address)


@identity.command("transfer-governance")
@click.argument("address", type=AddressType("new governor"))
@account_option
@json_option
def transfer_governance(address: str, account: str, as_json: bool) -> None:
    """Offer the governor role to ADDRESS, who must accept it (governor only)."""
    registry, sender = acting(account)
    if registry.governor() == address:
        unchanged(f"{address} is the governor already")
    if registry.pending_governor() == address:
        unchanged(f"The governor role is offered to {address} already; it must run accept-governance")
    receipt = registry.transfer_governance(address, sender=sender)
    report(f"Offered the governor role to {address}; it must run accept-governance", receipt, as_json)


@identity.command("accept-governance")
@account_option
@json_option
def accept_governance(account: str, as_json: bool) -> None:
    """Accept the governor role offered to --account."""
    registry, sender = acting(account)
    receipt = registry.accept_governance(sender=sender)
    report("Accepted the governor role", receipt, as_json)


@identity.command("roles")
@click.argument("address", type=AddressType("account"))
@json_option
def roles(address: str, as_json: bool) -> None:
    """Show whether ADDRESS is the governor, an authority or a relying party."""
    registry = settings().registry()
    authority, party = registry.authority(address), registry.relying_party(address)
    data = {
        "address": address,
        "governor": registry.governor() == authority.address,
        "authority": {"active": authority.active, "max_level": authority.max_level.label},
        "relying_party": {"active": party.active, "sector": party.sector.label},
    }

    def human() -> str:
        lines = [f"{authority.address}:"]
        lines.append(f"  governor:      {'yes' if data['governor'] else 'no'}")
        lines.append(f"  authority:     {'up to ' + authority.max_level.label if authority.active else 'no'}")
        lines.append(f"  relying party: {party.sector.label if party.active else 'no'}")
        return "\n".join(lines)

    emit(data, human, as_json)


def _verification_options(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.argument("holder", type=HOLDER),
        click.option(
            "--attributes",
            "attributes_file",
            required=True,
            type=click.Path(path_type=Path),
            help="JSON object of the verified attributes (name, date_of_birth, national_id, address, ...).",
        ),
        click.option("--level", required=True, type=click.Choice([m.label for m in Level if m.value])),
        click.option("--expires", help="Expiry date YYYY-MM-DD (UTC midnight)."),
        days_option("--valid-days", "Valid for N days [default: 3650]."),
        click.option(
            "--credential-out",
            required=True,
            type=click.Path(path_type=Path),
            help="Where to write the holder's credential (private: values and salts).",
        ),
        account_option,
        json_option,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _verify(
    reverify: bool,
    holder: str,
    attributes_file: Path,
    level: str,
    expires: str | None,
    valid_days: int | None,
    credential_out: Path,
    account: str,
    as_json: bool,
) -> None:
    output_path(credential_out, "--credential-out", overwrite=False)
    person = read_json(attributes_file, "attributes")
    registry, sender = acting(account)
    credential = Credential.issue(holder, person)
    expires_at = end_time(
        expires, valid_days, registry.chain.latest_timestamp(), default_days=3650, names="--expires/--valid-days"
    )
    action = registry.reverify if reverify else registry.verify
    # The credential (the holder's values and salts) is written, private, before the
    # transaction is sent, and kept whatever happens once it may have been sent: a
    # commitment on chain whose salts were lost could never be disclosed. Only a refusal
    # before sending (the contract's, the fee cap's, no funds) removes it again.
    write_json_atomic(credential_out, credential.to_json(), private=True)
    try:
        receipt = action(credential, level, expires_at, sender=sender)
    except (ContractRevert, InsufficientFunds, FeeCapExceeded, InvalidInput) as refused:
        credential_out.unlink(missing_ok=True)
        if isinstance(refused, ContractRevert) and refused.error == "IdentityAlreadyVerified" and not reverify:
            raise ContractRevert(
                f"{str(refused).rstrip('.')}. If the holder lost her credential, `chainpass identity reverify` "
                "is the only way to give her a new one.",
                refused.error,
                refused.error_args,
            ) from None
        raise
    except BaseException as exc:
        raise _unfinished(registry, credential, credential_out, reverify, exc) from None
    verb = "Re-verified" if reverify else "Verified"
    until = dt.datetime.fromtimestamp(expires_at, dt.UTC).date()
    report(
        f"{verb} {credential.holder} at level {level} until {until}; commitment "
        f"0x{credential.commitment.hex()}; credential written to {credential_out} (give it to the holder)",
        receipt,
        as_json,
        holder=credential.holder,
        commitment="0x" + credential.commitment.hex(),
        credential=str(credential_out),
    )


def _unfinished(
    registry: IdentityRegistry, credential: Credential, path: Path, reverify: bool, exc: BaseException
) -> Interrupted:
    """What to tell the operator when a verification stopped after its transaction may have
    been sent (Ctrl-C or a signal while waiting for it or its confirmations, a timeout, a
    node gone): what the chain holds now, that the credential is kept, what to run next."""
    interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
    why = "Interrupted" if interrupted else f"Stopped ({str(exc).rstrip('.') or type(exc).__name__})"
    commitment = "0x" + credential.commitment.hex()
    try:
        on_chain = registry.status(credential.holder).commitment == credential.commitment
    except Exception:  # the node may be gone: say what to check instead
        on_chain = None
    if on_chain:
        message = (
            f"{why}, but the verification of {credential.holder} is on chain (commitment {commitment}): its "
            f"credential is kept at {path}; give it to the holder. Confirmations were not awaited: "
            f"`chainpass identity status {credential.holder}` shows it."
        )
    else:
        again = "reverify" if reverify else "verify"
        message = (
            f"{why} before the verification of {credential.holder} was seen on chain; the transaction may still "
            f"be mined. Its credential is kept at {path}. Run `chainpass identity status {credential.holder}` "
            f"in a minute: if its commitment is {commitment}, {path} is the holder's credential; if not, "
            f"move {path} away and run `identity {again}` again."
        )
    return Interrupted(message, exit_code=EXIT_INTERRUPTED if interrupted else EXIT_ERROR)


@identity.command("verify")
@_verification_options
def verify(**kwargs: Any) -> None:
    """Record that --account (an authority) verified HOLDER in person."""
    _verify(False, **kwargs)


@identity.command("reverify")
@_verification_options
def reverify(**kwargs: Any) -> None:
    """Renew or update HOLDER's verification (its issuer, or any authority once the issuer is removed)."""
    _verify(True, **kwargs)


@identity.command("suspend")
@click.argument("holder", type=HOLDER)
@click.option("--reason", required=True, type=click.Choice([m.label for m in SuspensionReason]))
@account_option
@json_option
def suspend(holder: str, reason: str, account: str, as_json: bool) -> None:
    """Suspend HOLDER: every check fails until reinstated (issuer only).

    The reason stays off chain: the chain sees a salted commitment. Keep the printed
    salt with the case file; with it the reason can be shown to match the commitment.
    """
    registry, sender = acting(account)
    note = SuspensionNote.make(holder, reason)
    try:
        receipt = registry.suspend(holder, note, sender=sender)
    except (ContractRevert, InsufficientFunds, FeeCapExceeded, InvalidInput):
        raise  # refused before sending: nothing on chain, the salt is worth nothing
    except BaseException as exc:
        raise _suspension_unfinished(registry, note, exc) from None
    report(
        f"Suspended {holder} ({reason}; keep salt {note.to_json()['salt']} with the case file, the chain holds "
        f"only the commitment {note.to_json()['commitment']})",
        receipt,
        as_json,
        **note.to_json(),
    )


def _suspension_unfinished(registry: IdentityRegistry, note: SuspensionNote, exc: BaseException) -> Interrupted:
    """A suspension stopped after its transaction may have been sent: the salt exists only
    here, and without it the reason can never be shown to match the chain's commitment, so
    the message carries it, with what the chain holds now."""
    interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
    why = "Interrupted" if interrupted else f"Stopped ({str(exc).rstrip('.') or type(exc).__name__})"
    keep = (f"keep salt 0x{note.salt.hex()} with the case file (reason {note.reason.label}; the chain holds only "
            f"the commitment 0x{note.commitment.hex()})")  # fmt: skip
    try:
        suspended = registry.status(note.holder).status is Status.SUSPENDED
    except Exception:  # the node may be gone
        suspended = False
    if suspended:
        message = (f"{why}, but {note.holder} is suspended on chain: {keep}. Confirmations were not awaited: "
                   f"`chainpass identity status {note.holder}` shows it.")  # fmt: skip
    else:
        message = (f"{why} before the suspension of {note.holder} was seen on chain; the transaction may still be "
                   f"mined: {keep}. If `chainpass identity status {note.holder}` shows it suspended in a minute, "
                   "this salt is the one that proves its reason; if not, suspend again.")  # fmt: skip
    return Interrupted(message, exit_code=EXIT_INTERRUPTED if interrupted else EXIT_ERROR)


@identity.command("restore")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def restore(holder: str, account: str, as_json: bool) -> None:
    """Undo HOLDER's suspension or revocation made with a key declared compromised
    (the issuer's new key, or its successor)."""
    registry, sender = acting(account)
    receipt = registry.restore(holder, sender=sender)
    report(f"Restored {holder}", receipt, as_json, holder=holder)


@identity.command("reinstate")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def reinstate(holder: str, account: str, as_json: bool) -> None:
    """Lift HOLDER's suspension (issuer only)."""
    registry, sender = acting(account)
    receipt = registry.reinstate(holder, sender=sender)
    report(f"Reinstated {holder}", receipt, as_json, holder=holder)


@identity.command("revoke")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def revoke(holder: str, account: str, as_json: bool) -> None:
    """Revoke HOLDER for good (issuer only)."""
    registry, sender = acting(account)
    receipt = registry.revoke(holder, sender=sender)
    report(f"Revoked {holder}", receipt, as_json, holder=holder)


def _standing_lines(data: dict[str, Any]) -> list[str]:
    verdict = "VERIFIED" if data["valid"] else f"NOT VERIFIED ({data['standing'].replace('_', ' ')})"
    lines = [f"{data['holder']}: {verdict}"]
    if data.get("issuer"):
        lines.append(f"  level {data['level']}, issued by {data['issuer']}, expires {data['expires']}")
    return lines


@identity.command("status")
@click.argument("holder", type=HOLDER)
@json_option
def status(holder: str, as_json: bool) -> None:
    """Show HOLDER's verification (a plain read: no audit trail). Exit code 3 if not verified."""
    data = settings().registry().status(holder).to_json()

    def human() -> str:
        lines = _standing_lines(data)
        if data["status"] == "suspended":
            lines.append(f"  suspended since {data['changed']} (the reason stays with the issuer)")
        if data["issuer"]:
            lines.append(f"  commitment {data['commitment']}")
        return "\n".join(lines)

    emit(data, human, as_json)
    if not data["valid"]:
        raise SystemExit(EXIT_NEGATIVE)


@identity.command("check")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def check(holder: str, account: str, as_json: bool) -> None:
    """Check HOLDER as relying party --account; the check joins the holder's audit trail. Exit code 3 if
    not verified."""
    registry, sender = acting(account)
    result = registry.check(holder, sender=sender)
    emit(result.to_json(), lambda: "\n".join(_standing_lines(result.to_json())), as_json)
    if not result.to_json()["valid"]:
        raise SystemExit(EXIT_NEGATIVE)


@identity.command("disclose")
@click.option(
    "--credential",
    "credential_file",
    required=True,
    type=click.Path(path_type=Path),
    help="The holder's credential file.",
)
@click.option("--attribute", "keys", required=True, multiple=True, help="An attribute to reveal (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), help="Write the disclosure here instead of stdout.")
@click.option("--qr", "qr_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also draw it as a QR code to show a relying party's desk: FILE.svg or FILE.png.")  # fmt: skip
@click.option("--desk", "desk_url", help="With --qr: the desk's address (https://desk.example.org); the QR "
              "code is a link a phone's camera opens there, the disclosure in its fragment.")  # fmt: skip
def disclose(credential_file: Path, keys: tuple[str, ...], out: Path | None, qr_file: Path | None,
             desk_url: str | None) -> None:  # fmt: skip
    """Make a disclosure of some attributes from a credential (offline; always JSON), and with
    --qr its QR code: the disclosure in compact text, or with --desk a link to that desk."""
    if out is not None:
        output_path(out, "--out", overwrite=False)
    if desk_url is not None and qr_file is None:
        raise InvalidInput("--desk says where the QR code leads: give --qr FILE too.")
    if qr_file is not None:
        qr_format(qr_file)  # a wrong suffix refused before anything is made
        output_path(qr_file, "--qr", overwrite=False)
    credential = Credential.from_json(read_json(credential_file, "credential"))
    disclosure = credential.disclose(keys)
    document = disclosure.to_json()
    if qr_file is not None:
        content = disclosure.to_compact()
        if desk_url is not None:
            content = desk_link(desk_url) + "#" + content
        # Personal data: readable by its owner only, as the disclosure's JSON file.
        write_bytes_atomic(qr_file, render(content, qr_format(qr_file)), private=True)
        version = qr_code(content).version
        click.echo(f"Wrote a QR code (version {version}, level M) of the disclosure to {qr_file}", err=True)
    if out is None:
        if qr_file is None:
            click.echo(json.dumps(document, indent=2))
    else:
        write_json_atomic(out, document, private=True)
        click.echo(f"Wrote a disclosure of {', '.join(keys)} to {out}", err=True)


def desk_link(url: str) -> str:
    """The desk's page at ``url`` (a service's root, http or https): ``URL/desk``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput(f"--desk {url!r} is not a web address such as https://desk.example.org.")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/').removesuffix('/desk')}/desk"


@identity.command("verify-disclosure")
@click.argument("disclosure_file", type=click.Path(path_type=Path))
@click.option("--on-chain", is_flag=True, help="Also ask the contract's verifyAttribute view.")
@json_option
def verify_disclosure(disclosure_file: Path, on_chain: bool, as_json: bool) -> None:
    """Check a holder's disclosure against the commitment on chain."""
    disclosure = Disclosure.from_json(read_json(disclosure_file, "disclosure"))
    registry = settings().registry()
    result = registry.verify_disclosure(disclosure)
    data = result.to_json()
    if on_chain:
        data["on_chain"] = registry.verify_disclosure_on_chain(disclosure)

    def human() -> str:
        lines = [f"Disclosure matches {result.holder}'s commitment on chain."]
        lines += [f"  {key}: {value}" for key, value in result.attributes.items()]
        if on_chain:
            lines.append(f"  contract view agrees: {'yes' if data['on_chain'] else 'no'}")
        lines.append(f"  holder standing now: {result.standing.label.replace('_', ' ')}")
        return "\n".join(lines)

    emit(data, human, as_json)


@identity.command("history")
@click.argument("holder", type=HOLDER)
@click.option("--checks", "checks_only", is_flag=True, help="Only who looked the holder up.")
@json_option
def history(holder: str, checks_only: bool, as_json: bool) -> None:
    """HOLDER's full history from the chain's logs (or only the checks: who looked them up)."""
    registry = settings().registry()
    entries = registry.checks_of(holder) if checks_only else registry.history(holder)
    data = [e.to_json() for e in entries]

    def human() -> str:
        if not entries:
            return f"No events for {holder}."
        lines = []
        for e in entries:
            details = ", ".join(f"{k}={v}" for k, v in e.details.items() if k != "commitment")
            lines.append(f"block {e.block_number:>6}  {e.event:<17} by {e.actor or 'the holder'}  {details}".rstrip())
        return "\n".join(lines)

    emit(data, human, as_json)


# ----------------------------------------------------------- keys and recovery

NEW_HOLDER = AddressType("new holder")


@identity.command("rotate")
@click.argument("new_holder", type=NEW_HOLDER)
@account_option
@json_option
def rotate(new_holder: str, account: str, as_json: bool) -> None:
    """The holder --account moves its identity to its new wallet NEW_HOLDER (the holder pays gas;
    gasless: `consent typed-data rotate` + `consent relay`)."""
    registry, sender = acting(account)
    receipt = registry.rotate(new_holder, sender=sender)
    report(f"Moved the identity to {new_holder}; the old wallet no longer verifies", receipt, as_json,
           new_holder=new_holder)  # fmt: skip


@identity.group()
def recovery() -> None:
    """Recover a lost wallet's identity to a new wallet, after a waiting period."""


@recovery.command("request")
@click.argument("holder", type=HOLDER)
@click.argument("new_holder", type=NEW_HOLDER)
@account_option
@json_option
def recovery_request(holder: str, new_holder: str, account: str, as_json: bool) -> None:
    """The issuer --account starts moving HOLDER's identity to NEW_HOLDER."""
    registry, sender = acting(account)
    receipt = registry.request_recovery(holder, new_holder, sender=sender)
    pending = registry.recovery(holder)
    report(f"Recovery of {holder} to {new_holder} requested; the old key may object until "
           f"{pending.to_json()['ready']}", receipt, as_json, **pending.to_json())  # fmt: skip


@recovery.command("cancel")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def recovery_cancel(holder: str, account: str, as_json: bool) -> None:
    """Cancel HOLDER's pending recovery: --account is the holder (objecting) or its issuer."""
    registry, sender = acting(account)
    receipt = registry.cancel_recovery(holder, sender=sender)
    report(f"Cancelled the recovery of {holder}", receipt, as_json, holder=holder)


@recovery.command("complete")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def recovery_complete(holder: str, account: str, as_json: bool) -> None:
    """The issuer --account completes HOLDER's recovery once the waiting period is over."""
    registry, sender = acting(account)
    new_holder = registry.recovery(holder).new_holder
    receipt = registry.complete_recovery(holder, sender=sender)
    report(f"Recovered {holder}'s identity to {new_holder}; the old wallet no longer verifies", receipt, as_json,
           holder=holder, new_holder=new_holder)  # fmt: skip


@recovery.command("status")
@click.argument("holder", type=HOLDER)
@json_option
def recovery_status(holder: str, as_json: bool) -> None:
    """Show HOLDER's pending recovery, if any."""
    pending = settings().registry().recovery(holder)
    data = pending.to_json()
    if pending.pending:
        human = f"{holder}: recovery to {pending.new_holder} pending; it can complete from {data['ready']}."
    else:
        human = f"{holder}: no recovery pending."
    emit(data, human, as_json)
