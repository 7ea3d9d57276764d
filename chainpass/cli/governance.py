"""`chainpass governance`: a Safe multisig governs the contracts through a timelock.

setup → (deploy --governor timelock) → propose → sign (each owner) → submit → execute; status
at any time. See docs/governance.md for the operator's walk-through and the design.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from chainpass.chain import Chain, Sender
from chainpass.cli.common import (
    AddressType,
    Settings,
    account_option,
    emit,
    iso_time,
    json_option,
    output_path,
    settings,
    tx_fields,
)
from chainpass.cli.upgrade import CONTRACTS as UPGRADABLE
from chainpass.deployment import DeploymentStore, load_deployment
from chainpass.enums import Level, Sector
from chainpass.governance import (
    DEFAULT_DELAY,
    Action,
    Governance,
    GovernanceStore,
    Proposal,
    ProposalKind,
    appoint_authority_action,
    call_action,
    cancel_action,
    contract_address,
    execute,
    hand_over,
    parse_delay,
    proposal_status,
    propose,
    read_proposal,
    setup_governance,
    sign_proposal,
    submit,
    upgrade_action,
    write_proposal,
)
from chainpass.passport import metadata_base


def store(options: Settings) -> GovernanceStore:
    """Where governance records live: beside the deployment records, keyed the same way."""
    return GovernanceStore(options.home / "governance")


def _loaded() -> tuple[Settings, Chain, Governance]:
    options = settings()
    chain = options.connect()
    return options, chain, store(options).load(chain)


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


@click.group()
def governance() -> None:
    """Govern the contracts through a Safe multisig and a timelock (docs/governance.md)."""


@governance.command("setup")
@click.option(
    "--owner",
    "owners",
    type=AddressType("owner"),
    multiple=True,
    required=True,
    help="A Safe owner's address (repeat for each).",
)
@click.option(
    "--threshold", type=click.IntRange(1, 2**32), required=True, help="How many owners must sign each action."
)
@click.option(
    "--delay",
    default=f"{DEFAULT_DELAY // 86400}d",
    show_default=True,
    help="The timelock's minimum delay: seconds, or a number with s, m, h or d.",
)
@click.option("--replace", is_flag=True, help="Set up afresh even if this chain has governance (the record is kept).")
@account_option
@json_option
def setup_command(
    owners: tuple[str, ...], threshold: int, delay: str, replace: bool, account: str, as_json: bool
) -> None:
    """Deploy a Safe (the owners, the threshold) and a timelock whose only proposer is that Safe."""
    options = settings()
    chain = options.connect()
    seconds = parse_delay(delay)
    record, created = setup_governance(
        chain, options.sender(chain, account), owners, threshold, seconds, store(options), replace=replace
    )
    path = store(options).path_for(chain)
    data = {"created": created, "record": str(path), **record.to_json()}

    def human() -> str:
        verb = "Set up" if created else "Already set up, nothing changed:"
        return "\n".join(
            [
                f"{verb} governance on chain {chain.chain_id} (record {path})",
                f"  Safe:     {record.safe} ({record.threshold} of {len(record.owners)} owners must sign)",
                f"  Timelock: {record.timelock} (delay {_duration(record.min_delay)}; proposer and canceller: the "
                "Safe; executor: anyone)",
                "Next: `chainpass deploy --governor timelock` makes the timelock the contracts' governor.",
            ]
        )

    emit(data, human, as_json)


@governance.command("hand-over")
@account_option
@json_option
def hand_over_command(account: str, as_json: bool) -> None:
    """Offer governance of the deployed contracts to the timelock, as their governor (a plain key).
    The timelock takes it with `propose call <contract> acceptGovernance`, one proposal each."""
    options, chain, record = _loaded()
    deployment = load_deployment(chain, options.store)
    receipts = hand_over(chain, record, deployment, options.sender(chain, account))
    data = {"timelock": record.timelock, "transactions": [tx_fields(r) for r in receipts]}
    emit(
        data,
        f"Offered governance to the timelock {record.timelock} ({len(receipts)} contract(s)). Next, for each of "
        f"IdentityRegistry and ProductPassport: `chainpass governance propose call <contract> acceptGovernance "
        "--out FILE`, signed, submitted and executed; the key governs until then.",
        as_json,
    )


# ---------------------------------------------------------------------- propose


def proposal_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--out",
        type=click.Path(path_type=Path),
        required=True,
        help="The proposal file to write (new): it goes to each owner to sign.",
    )(func)
    func = click.option(
        "--nonce", type=click.IntRange(0, 2**64 - 1), help="The Safe nonce [default: the Safe's next]."
    )(func)
    func = click.option("--delay", help="The timelock delay for this action [default: the timelock's minimum].")(func)
    return json_option(func)


def _write_proposal(proposal: Proposal, out: Path, as_json: bool) -> None:
    write_proposal(out, proposal)
    data = {"file": str(out), **proposal.to_json()}
    human = (
        f"Proposal written to {out}: {proposal.description}, through the timelock (delay "
        f"{_duration(proposal.delay)}), Safe nonce {proposal.nonce}.\n"
        f"It needs {proposal.threshold} of the {len(proposal.owners)} owners' signatures: each runs "
        f"`chainpass governance sign {out} --account NAME`."
    )
    if proposal.kind is ProposalKind.CANCEL:
        human = (
            f"Proposal written to {out}: {proposal.description} (takes effect when submitted), Safe nonce "
            f"{proposal.nonce}. It needs {proposal.threshold} owners' signatures (`chainpass governance sign`)."
        )
    emit(data, human, as_json)


def _propose(action_for: Callable[[Chain, Governance, Settings], Action], out: Path, **options: Any) -> None:
    output_path(out, "--out", overwrite=False)
    settings_, chain, record = _loaded()
    delay = None if options["delay"] is None else parse_delay(options["delay"])
    action = action_for(chain, record, settings_)
    proposal = propose(chain, record, action, delay=delay, nonce=options["nonce"])
    _write_proposal(proposal, out, options["as_json"])


def _address_of(name: str, chain: Chain, record: Governance, options: Settings) -> str:
    return contract_address(name, DeploymentStore(options.home / "deployments").find(chain), record)


@governance.group("propose")
def propose_group() -> None:
    """Write a proposal file: an action the Safe schedules on the timelock once enough owners sign."""


@propose_group.command("appoint-authority")
@click.argument("authority", type=AddressType("authority"))
@click.option("--max-level", required=True, help="The highest level it may grant: low, substantial or high.")
@proposal_options
def propose_appoint_authority(authority: str, max_level: str, out: Path, **options: Any) -> None:
    """Appoint AUTHORITY in the identity registry."""
    Level.parse(max_level)  # a typo is refused before anything is read from the chain
    _propose(
        lambda chain, record, s: appoint_authority_action(
            _address_of("IdentityRegistry", chain, record, s), authority, max_level
        ),
        out,
        **options,
    )


@propose_group.command("remove-authority")
@click.argument("authority", type=AddressType("authority"))
@proposal_options
def propose_remove_authority(authority: str, out: Path, **options: Any) -> None:
    """Remove AUTHORITY from the identity registry."""
    _propose(
        lambda chain, record, s: call_action(
            chain, "IdentityRegistry", _address_of("IdentityRegistry", chain, record, s), "removeAuthority", [authority]
        ),
        out,
        **options,
    )


@propose_group.command("appoint-relying-party")
@click.argument("relying_party", type=AddressType("relying party"))
@click.option("--sector", required=True, help="government, bank, hospital, hotel, courier or other.")
@proposal_options
def propose_appoint_relying_party(relying_party: str, sector: str, out: Path, **options: Any) -> None:
    """Appoint RELYING_PARTY in the identity registry, in its sector."""
    Sector.parse(sector)
    _propose(
        lambda chain, record, s: call_action(
            chain,
            "IdentityRegistry",
            _address_of("IdentityRegistry", chain, record, s),
            "appointRelyingParty",
            [relying_party, sector],
        ),
        out,
        **options,
    )


@propose_group.command("set-metadata-base")
@click.argument("url")
@proposal_options
def propose_set_metadata_base(url: str, out: Path, **options: Any) -> None:
    """Point every passport's ERC-721 tokenURI at URL followed by its id (ending in /, e.g.
    https://id.example.org/metadata/); an empty URL sets none."""
    base = metadata_base(url) if url else ""
    _propose(
        lambda chain, record, s: call_action(
            chain, "ProductPassport", _address_of("ProductPassport", chain, record, s), "setBaseURI", [base]
        ),
        out,
        **options,
    )


@propose_group.command("upgrade")
@click.argument("contract", type=click.Choice(list(UPGRADABLE)))
@click.argument("implementation", type=AddressType("implementation"))
@proposal_options
def propose_upgrade(contract: str, implementation: str, out: Path, **options: Any) -> None:
    """Upgrade CONTRACT (registry or passports) to IMPLEMENTATION (from `chainpass upgrade prepare`)."""

    def action(chain: Chain, record: Governance, s: Settings) -> Action:
        return upgrade_action(chain, load_deployment(chain, s.store), UPGRADABLE[contract], implementation)

    _propose(action, out, **options)


@propose_group.command("call")
@click.argument("contract")
@click.argument("function")
@click.argument("args", nargs=-1)
@proposal_options
def propose_call(contract: str, function: str, args: tuple[str, ...], out: Path, **options: Any) -> None:
    """Any governor function: CONTRACT (IdentityRegistry, ProductPassport or TimelockController) FUNCTION ARGS."""
    _propose(
        lambda chain, record, s: call_action(
            chain, contract, _address_of(contract, chain, record, s), function, list(args)
        ),
        out,
        **options,
    )


@propose_group.command("cancel")
@click.argument("scheduled", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The cancellation's proposal file (new).")
@click.option("--nonce", type=click.IntRange(0, 2**64 - 1), help="The Safe nonce [default: the Safe's next].")
@json_option
def propose_cancel(scheduled: Path, out: Path, nonce: int | None, as_json: bool) -> None:
    """Cancel the action of the proposal file SCHEDULED while it waits on the timelock."""
    output_path(out, "--out", overwrite=False)
    _, chain, record = _loaded()
    _write_proposal(cancel_action(chain, record, read_proposal(scheduled), nonce=nonce), out, as_json)


# ---------------------------------------------------------------------- sign, submit, execute


def _signer(options: Settings, spec: str) -> tuple[Sender, Chain | None]:
    """A keystore account signs offline; a node's dev account (index or address) signs on the node."""
    text = spec.strip()
    if not text.isdigit() and any(
        e.name == text or e.address.lower() == text.lower() for e in options.keystores.list()
    ):
        return options.keystore_account(text), None
    chain = options.connect()
    return options.sender(chain, text), chain


@governance.command("sign")
@click.argument("proposal_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Write the signed copy here [default: in place].")
@account_option
@json_option
def sign_command(proposal_file: Path, out: Path | None, account: str, as_json: bool) -> None:
    """Sign PROPOSAL_FILE as a Safe owner (a keystore account signs offline) and add the signature to it."""
    proposal = read_proposal(proposal_file)
    target = output_path(out, "--out") if out is not None else proposal_file
    signer, chain = _signer(settings(), account)
    signed = sign_proposal(proposal, signer, chain)
    write_proposal(target, signed)
    count, missing = len(signed.signed_by()), signed.missing()
    data = {
        "file": str(target),
        "signed_by": signed.signed_by(),
        "threshold": signed.threshold,
        "missing_signatures": missing,
        "safe_tx_hash": "0x" + signed.safe_tx_hash.hex(),
    }
    next_step = f"{missing} more needed." if missing else f"Enough to submit: `chainpass governance submit {target}`."
    emit(data, f"Signed {signed.description}: {count} of {signed.threshold} signatures. {next_step}", as_json)


@governance.command("submit")
@click.argument("proposal_file", type=click.Path(path_type=Path))
@click.argument("copies", nargs=-1, type=click.Path(path_type=Path))
@account_option
@json_option
def submit_command(proposal_file: Path, copies: tuple[Path, ...], account: str, as_json: bool) -> None:
    """Send PROPOSAL_FILE's Safe transaction (with the signatures of any COPIES signed apart): the
    Safe schedules the action on the timelock. Any account may send it."""
    proposal = read_proposal(proposal_file)
    for copy in copies:
        proposal = proposal.merged(read_proposal(copy))
    options, chain, record = _loaded()
    receipt = submit(chain, record, proposal, options.sender(chain, account))
    status = proposal_status(chain, record, proposal)
    data = {**status.to_json(), **tx_fields(receipt)}
    if proposal.kind is ProposalKind.CANCEL:
        human = f"Cancelled on the timelock: {proposal.action.description} (block {receipt['blockNumber']})."
    else:
        ready = iso_time(status.ready_at) if status.ready_at else "?"
        human = (
            f"Scheduled on the timelock: {proposal.description} (block {receipt['blockNumber']}). Ready at {ready}; "
            f"then anyone runs `chainpass governance execute {proposal_file}`."
        )
    emit(data, human, as_json)


@governance.command("execute")
@click.argument("proposal_file", type=click.Path(path_type=Path))
@account_option
@json_option
def execute_command(proposal_file: Path, account: str, as_json: bool) -> None:
    """Run PROPOSAL_FILE's action once the timelock's delay has passed. Any account may."""
    proposal = read_proposal(proposal_file)
    options, chain, record = _loaded()
    receipt = execute(chain, record, proposal, options.sender(chain, account))
    data = {"description": proposal.description, "state": "done", **tx_fields(receipt)}
    emit(data, f"Done: {proposal.description} (block {receipt['blockNumber']}).", as_json)


@governance.command("status")
@click.argument("proposal_file", type=click.Path(path_type=Path), required=False)
@json_option
def status_command(proposal_file: Path | None, as_json: bool) -> None:
    """Where PROPOSAL_FILE stands; without it, this chain's Safe and timelock."""
    _, chain, record = _loaded()
    if proposal_file is None:
        emit(
            record.to_json(),
            f"Safe {record.safe}: {record.threshold} of {', '.join(record.owners)}\n"
            f"Timelock {record.timelock}: delay {_duration(record.min_delay)}",
            as_json,
        )
        return
    status = proposal_status(chain, record, read_proposal(proposal_file))

    def human() -> str:
        lines = [f"{status.description}: {status.state}"]
        signers = ", ".join(status.signed_by) or "nobody"
        lines.append(f"  signatures: {len(status.signed_by)} of {status.threshold} ({signers})")
        if status.state in ("waiting", "ready") and status.ready_at is not None:
            lines.append(f"  ready at {iso_time(status.ready_at)} (chain time {iso_time(status.now)})")
        lines.append(f"  Safe nonce {status.safe_nonce}, SafeTx {status.safe_tx_hash}")
        return "\n".join(lines)

    emit(status.to_json(), human, as_json)
