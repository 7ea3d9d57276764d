"""The `chainpass` command: operators' CLI. It parses and prints; the library does the work.

Human-readable output by default, ``--json`` on every command for scripts. Errors are
one line on stderr (or a JSON object with ``--json``) and exit code 1; usage errors
exit 2. No tracebacks for user mistakes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import requests

from chainpass.attributes import Credential, Disclosure
from chainpass.chain import Chain, parse_address
from chainpass.deployment import DeploymentStore, deploy, load_deployment
from chainpass.errors import ChainpassError, InvalidInput, NodeUnreachable
from chainpass.identity import IdentityRegistry, Level, Sector, SuspensionReason
from chainpass.node import DEFAULT_PORT, AnvilNode

DEFAULT_RPC = f"http://127.0.0.1:{DEFAULT_PORT}"


@dataclass(frozen=True)
class Settings:
    """What the root options say: where the chain is and where chainpass keeps its files."""

    rpc: str | None
    chain_id: int | None
    home: Path

    @property
    def store(self) -> DeploymentStore:
        return DeploymentStore(self.home / "deployments")

    def connect(self) -> Chain:
        return Chain.connect(self.rpc or DEFAULT_RPC, expected_chain_id=self.chain_id)

    def registry(self) -> IdentityRegistry:
        chain = self.connect()
        return IdentityRegistry.from_deployment(chain, load_deployment(chain, self.store))


def _settings() -> Settings:
    return click.get_current_context().find_object(Settings)  # type: ignore[return-value]


def emit(data: Any, human: str | Callable[[], str], as_json: bool) -> None:
    """Print ``data`` as JSON, or the human text."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        click.echo(human() if callable(human) else human)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def account_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--account",
        envvar="CHAINPASS_ACCOUNT",
        default="0",
        show_default=True,
        help="Account that sends the transaction: a dev-account index of the node, or its address.",
    )(func)


def _tx(receipt: Any) -> dict[str, Any]:
    return {
        "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
        "block_number": int(receipt["blockNumber"]),
        "gas_used": int(receipt["gasUsed"]),
    }


def _write_private(path: Path, data: Any) -> None:
    """Write ``data`` as JSON readable by the owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"The {what} file {path} does not exist.") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The {what} file {path} is not JSON: {exc.msg} at line {exc.lineno}.") from None


def _expiry(expires: str | None, valid_days: int | None, now: int) -> int:
    if expires and valid_days:
        raise InvalidInput("Give either --expires or --valid-days, not both.")
    if expires:
        day = dt.date.fromisoformat(expires) if _is_date(expires) else None
        if day is None:
            raise InvalidInput(f"--expires {expires!r} is not a date in the form YYYY-MM-DD.")
        return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())
    return now + (valid_days or 3650) * 24 * 3600


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


class AddressType(click.ParamType):
    """An Ethereum address, checked before anything touches the chain."""

    name = "address"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return parse_address(str(value), self.what)  # InvalidInput: one line, exit 1


HOLDER = AddressType("holder")


# ---------------------------------------------------------------------- root


@click.group()
@click.option("--rpc", envvar="CHAINPASS_RPC", help=f"JSON-RPC URL of the node [default: {DEFAULT_RPC}].")
@click.option("--chain-id", type=int, envvar="CHAINPASS_CHAIN_ID", help="Refuse a node on any other chain.")
@click.option(
    "--home",
    type=click.Path(path_type=Path),
    envvar="CHAINPASS_HOME",
    default=Path.home() / ".chainpass",
    show_default="~/.chainpass",
    help="Where deployment records and the node's state live.",
)
@click.version_option(package_name="chainpass")
@click.pass_context
def cli(ctx: click.Context, rpc: str | None, chain_id: int | None, home: Path) -> None:
    """chainpass: verified identity and product passports on an EVM chain."""
    ctx.obj = Settings(rpc=rpc, chain_id=chain_id, home=home)


@cli.command()
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path),
    help="State file [default: HOME/anvil-state.json].",
)
@click.option("--ephemeral", is_flag=True, help="Keep no state: start empty, forget everything on stop.")
def node(port: int, state_file: Path | None, ephemeral: bool) -> None:
    """Run a local Anvil node on 127.0.0.1 until Ctrl-C; its state survives restarts."""
    state = None if ephemeral else (state_file or _settings().home / "anvil-state.json")
    anvil = AnvilNode(port=port, state_file=state, quiet=True).start()
    click.echo(f"Anvil is listening on {anvil.url} (chain id 31337); state: {state or 'none'}. Ctrl-C stops it.")
    sys.exit(anvil.wait())


@cli.command()
@json_option
def accounts(as_json: bool) -> None:
    """List the node's unlocked dev accounts (usable as --account INDEX)."""
    chain = _settings().connect()
    rows = [
        {"index": i, "address": a, "balance_eth": chain.w3.eth.get_balance(a) / 10**18}
        for i, a in enumerate(chain.dev_accounts())
    ]
    emit(
        rows,
        lambda: "\n".join(f"{r['index']:>2}  {r['address']}  {r['balance_eth']:.4f} ETH" for r in rows),
        as_json,
    )


@cli.command(name="deploy")
@account_option
@click.option("--replace", is_flag=True, help="Deploy afresh even if a record exists (e.g. after a chain reset).")
@json_option
def deploy_command(account: str, replace: bool, as_json: bool) -> None:
    """Deploy the contracts, or find them if already deployed; record where they live."""
    settings = _settings()
    chain = settings.connect()
    deployment, created = deploy(chain, chain.account(account), settings.store, replace=replace)
    data = {"created": created, "record": str(settings.store.path(chain.chain_id)), **deployment.to_json()}

    def human() -> str:
        verb = "Deployed" if created else "Already deployed, nothing changed:"
        lines = [f"{verb} on chain {chain.chain_id} (record {data['record']})"]
        lines += [f"  {name}: {c.address} (block {c.block_number})" for name, c in deployment.contracts.items()]
        return "\n".join(lines)

    emit(data, human, as_json)


@cli.command()
@click.option("--rpc", "demo_rpc", help="Play on this node instead of the embedded chain.")
def demo(demo_rpc: str | None) -> None:
    """Play the identity story from PRODUCT.md on the embedded chain (or --rpc)."""
    from chainpass.demo import run_demo

    url = demo_rpc or _settings().rpc
    run_demo(Chain.connect(url) if url else Chain.embedded(), say=click.echo)


# ------------------------------------------------------------------ identity


@cli.group()
def identity() -> None:
    """Verified identity: appoint, verify, suspend, check, disclose, audit."""


def _send_and_report(action: str, receipt: Any, as_json: bool, **data: Any) -> None:
    emit(
        {**data, **_tx(receipt)},
        f"{action} (block {receipt['blockNumber']}, {receipt['gasUsed']:,} gas)",
        as_json,
    )


@identity.command("appoint-authority")
@click.argument("address", type=AddressType("authority"))
@click.option("--max-level", required=True, type=click.Choice([m.label for m in Level if m.value]))
@account_option
@json_option
def appoint_authority(address: str, max_level: str, account: str, as_json: bool) -> None:
    """Appoint ADDRESS as an authority that may verify up to --max-level (governor only)."""
    registry = _settings().registry()
    receipt = registry.appoint_authority(address, max_level, sender=registry.chain.account(account))
    _send_and_report(f"Appointed authority {address} (up to {max_level})", receipt, as_json, authority=address)


@identity.command("remove-authority")
@click.argument("address", type=AddressType("authority"))
@account_option
@json_option
def remove_authority(address: str, account: str, as_json: bool) -> None:
    """Remove authority ADDRESS; its holders stand as issuer_removed (governor only)."""
    registry = _settings().registry()
    receipt = registry.remove_authority(address, sender=registry.chain.account(account))
    _send_and_report(f"Removed authority {address}", receipt, as_json, authority=address)


@identity.command("appoint-relying-party")
@click.argument("address", type=AddressType("relying party"))
@click.option("--sector", required=True, type=click.Choice([m.label for m in Sector if m.value]))
@account_option
@json_option
def appoint_relying_party(address: str, sector: str, account: str, as_json: bool) -> None:
    """Appoint ADDRESS as a relying party of --sector (governor only)."""
    registry = _settings().registry()
    receipt = registry.appoint_relying_party(address, sector, sender=registry.chain.account(account))
    _send_and_report(f"Appointed relying party {address} ({sector})", receipt, as_json, relying_party=address)


@identity.command("remove-relying-party")
@click.argument("address", type=AddressType("relying party"))
@account_option
@json_option
def remove_relying_party(address: str, account: str, as_json: bool) -> None:
    """Remove relying party ADDRESS (governor only)."""
    registry = _settings().registry()
    receipt = registry.remove_relying_party(address, sender=registry.chain.account(account))
    _send_and_report(f"Removed relying party {address}", receipt, as_json, relying_party=address)


@identity.command("transfer-governance")
@click.argument("address", type=AddressType("new governor"))
@account_option
@json_option
def transfer_governance(address: str, account: str, as_json: bool) -> None:
    """Offer the governor role to ADDRESS, who must accept it (governor only)."""
    registry = _settings().registry()
    receipt = registry.transfer_governance(address, sender=registry.chain.account(account))
    _send_and_report(f"Offered the governor role to {address}; it must run accept-governance", receipt, as_json)


@identity.command("accept-governance")
@account_option
@json_option
def accept_governance(account: str, as_json: bool) -> None:
    """Accept the governor role offered to --account."""
    registry = _settings().registry()
    receipt = registry.accept_governance(sender=registry.chain.account(account))
    _send_and_report("Accepted the governor role", receipt, as_json)


@identity.command("roles")
@click.argument("address", type=AddressType("account"))
@json_option
def roles(address: str, as_json: bool) -> None:
    """Show whether ADDRESS is the governor, an authority or a relying party."""
    registry = _settings().registry()
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
        click.option("--valid-days", type=click.IntRange(min=1), help="Valid for N days [default: 3650]."),
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
    if credential_out.exists():
        raise InvalidInput(f"{credential_out} exists already: choose another --credential-out.")
    person = _read_json(attributes_file, "attributes")
    registry = _settings().registry()
    credential = Credential.issue(holder, person)
    expires_at = _expiry(expires, valid_days, registry.chain.latest_timestamp())
    action = registry.reverify if reverify else registry.verify
    sender = registry.chain.account(account)
    # The credential is written before the transaction is sent and kept only if it is
    # mined: a commitment on chain whose salts were lost could never be disclosed.
    pending = credential_out.with_name(credential_out.name + ".pending")
    _write_private(pending, credential.to_json())
    try:
        receipt = action(credential, level, expires_at, sender=sender)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    pending.replace(credential_out)
    verb = "Re-verified" if reverify else "Verified"
    until = dt.datetime.fromtimestamp(expires_at, dt.UTC).date()
    _send_and_report(
        f"{verb} {credential.holder} at level {level} until {until}; commitment "
        f"0x{credential.commitment.hex()}; credential written to {credential_out} (give it to the holder)",
        receipt,
        as_json,
        holder=credential.holder,
        commitment="0x" + credential.commitment.hex(),
        credential=str(credential_out),
    )


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
    """Suspend HOLDER: every check fails until reinstated (issuer only)."""
    registry = _settings().registry()
    receipt = registry.suspend(holder, reason, sender=registry.chain.account(account))
    _send_and_report(f"Suspended {holder} ({reason})", receipt, as_json, holder=holder, reason=reason)


@identity.command("reinstate")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def reinstate(holder: str, account: str, as_json: bool) -> None:
    """Lift HOLDER's suspension (issuer only)."""
    registry = _settings().registry()
    receipt = registry.reinstate(holder, sender=registry.chain.account(account))
    _send_and_report(f"Reinstated {holder}", receipt, as_json, holder=holder)


@identity.command("revoke")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def revoke(holder: str, account: str, as_json: bool) -> None:
    """Revoke HOLDER for good (issuer only)."""
    registry = _settings().registry()
    receipt = registry.revoke(holder, sender=registry.chain.account(account))
    _send_and_report(f"Revoked {holder}", receipt, as_json, holder=holder)


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
    """Show HOLDER's verification (a plain read: no audit trail)."""
    data = _settings().registry().status(holder).to_json()

    def human() -> str:
        lines = _standing_lines(data)
        if data["suspension_reason"]:
            lines.append(f"  suspended: {data['suspension_reason'].replace('_', ' ')}")
        if data["issuer"]:
            lines.append(f"  commitment {data['commitment']}")
        return "\n".join(lines)

    emit(data, human, as_json)


@identity.command("check")
@click.argument("holder", type=HOLDER)
@account_option
@json_option
def check(holder: str, account: str, as_json: bool) -> None:
    """Check HOLDER as relying party --account; the check joins the holder's audit trail."""
    registry = _settings().registry()
    result = registry.check(holder, sender=registry.chain.account(account))
    emit(result.to_json(), lambda: "\n".join(_standing_lines(result.to_json())), as_json)


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
def disclose(credential_file: Path, keys: tuple[str, ...], out: Path | None) -> None:
    """Make a disclosure of some attributes from a credential (offline; always JSON)."""
    credential = Credential.from_json(_read_json(credential_file, "credential"))
    document = credential.disclose(keys).to_json()
    if out is None:
        click.echo(json.dumps(document, indent=2))
    else:
        _write_private(out, document)
        click.echo(f"Wrote a disclosure of {', '.join(keys)} to {out}", err=True)


@identity.command("verify-disclosure")
@click.argument("disclosure_file", type=click.Path(path_type=Path))
@click.option("--on-chain", is_flag=True, help="Also ask the contract's verifyAttribute view.")
@json_option
def verify_disclosure(disclosure_file: Path, on_chain: bool, as_json: bool) -> None:
    """Check a holder's disclosure against the commitment on chain."""
    disclosure = Disclosure.from_json(_read_json(disclosure_file, "disclosure"))
    registry = _settings().registry()
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
    registry = _settings().registry()
    entries = registry.checks_of(holder) if checks_only else registry.history(holder)
    data = [e.to_json() for e in entries]

    def human() -> str:
        if not entries:
            return f"No events for {holder}."
        lines = []
        for e in entries:
            details = ", ".join(f"{k}={v}" for k, v in e.details.items() if k != "commitment")
            lines.append(f"block {e.block_number:>6}  {e.event:<17} by {e.actor}  {details}".rstrip())
        return "\n".join(lines)

    emit(data, human, as_json)


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn chainpass errors into one-line messages."""
    args = sys.argv[1:] if argv is None else argv
    try:
        cli.main(args=args, prog_name="chainpass", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ChainpassError, requests.exceptions.ConnectionError) as exc:
        error = (
            exc
            if isinstance(exc, ChainpassError)
            else NodeUnreachable(f"The node stopped answering: {exc.__class__.__name__}. Is it still running?")
        )
        if "--json" in args:
            click.echo(json.dumps({"error": str(error), "kind": type(error).__name__}))
        else:
            click.echo(f"error: {error}", err=True)
        sys.exit(1)
