"""The `chainpass` command: operators' CLI. It parses and prints; the library does the work.

Human-readable output by default, ``--json`` on every command for scripts. Errors are
one line on stderr (or a JSON object with ``--json``) and exit code 1; usage errors
exit 2. No tracebacks for user mistakes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import requests

from chainpass.chain import Chain
from chainpass.cli.account import account
from chainpass.cli.brand import brand
from chainpass.cli.bulk import bulk_group
from chainpass.cli.common import DEFAULT_RPC, Settings, account_option, emit, json_option, settings
from chainpass.cli.consent import consent
from chainpass.cli.epcis import epcis
from chainpass.cli.identity import identity
from chainpass.cli.index import index
from chainpass.cli.passport import passport
from chainpass.deployment import deploy
from chainpass.errors import ChainpassError, NodeUnreachable
from chainpass.fees import GWEI, FeePolicy
from chainpass.node import DEFAULT_PORT, GANACHE_CHAIN_ID, AnvilNode, GanacheNode

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
@click.option(
    "--max-fee-gwei",
    type=click.FloatRange(min=0),
    envvar="CHAINPASS_MAX_FEE_GWEI",
    help="Never pay more than this per gas: a transaction the chain would charge more is refused, unsent.",
)
@click.option(
    "--priority-fee-gwei",
    type=click.FloatRange(min=0),
    envvar="CHAINPASS_PRIORITY_FEE_GWEI",
    help="The tip per gas [default: the node's suggestion].",
)
@click.option(
    "--confirmations",
    type=click.IntRange(min=0),
    envvar="CHAINPASS_CONFIRMATIONS",
    default=0,
    show_default=True,
    help="Blocks on top of each transaction before a command reports it done.",
)
@click.version_option(package_name="chainpass")
@click.pass_context
def cli(
    ctx: click.Context,
    rpc: str | None,
    chain_id: int | None,
    home: Path,
    max_fee_gwei: float | None,
    priority_fee_gwei: float | None,
    confirmations: int,
) -> None:
    """chainpass: verified identity and product passports on an EVM chain."""
    fees = FeePolicy(
        max_priority_fee_per_gas=None if priority_fee_gwei is None else round(priority_fee_gwei * GWEI),
        cap_per_gas=None if max_fee_gwei is None else round(max_fee_gwei * GWEI),
    )
    ctx.obj = Settings(rpc=rpc, chain_id=chain_id, home=home, fees=fees, confirmations=confirmations)


@cli.command()
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path),
    help="State file [default: HOME/anvil-state.json].",
)
@click.option("--ephemeral", is_flag=True, help="Keep no state: start empty, forget everything on stop.")
@click.option(
    "--ganache",
    is_flag=True,
    help="Run Ganache 7.9 instead (chain id 1337, the same dev accounts); --state then names its database "
    "directory [default: HOME/ganache-db].",
)
def node(port: int, state_file: Path | None, ephemeral: bool, ganache: bool) -> None:
    """Run a local Anvil node on 127.0.0.1 until Ctrl-C; its state survives restarts."""
    if ganache:
        db_dir = None if ephemeral else (state_file or settings().home / "ganache-db")
        with GanacheNode(port=port, db_dir=db_dir) as running:  # stopped however this ends
            click.echo(
                f"Ganache is listening on {running.url} (chain id {GANACHE_CHAIN_ID}); state: {db_dir or 'none'}. "
                "Ctrl-C stops it."
            )
            code = running.wait()
        sys.exit(code)
    state = None if ephemeral else (state_file or settings().home / "anvil-state.json")
    anvil = AnvilNode(port=port, state_file=state, quiet=True).start()
    if anvil.restored_state:
        click.echo(
            f"note: {state} was damaged (the node was killed while writing it); started from its last good copy.",
            err=True,
        )
    click.echo(f"Anvil is listening on {anvil.url} (chain id 31337); state: {state or 'none'}. Ctrl-C stops it.")
    sys.exit(anvil.wait())


@cli.command()
@json_option
def accounts(as_json: bool) -> None:
    """List the node's unlocked dev accounts (usable as --account INDEX)."""
    chain = settings().connect()
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
    options = settings()
    chain = options.connect()
    deployment, created = deploy(chain, options.sender(chain, account), options.store, replace=replace)
    data = {"created": created, "record": str(options.store.path(chain.chain_id)), **deployment.to_json()}

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

    url = demo_rpc or settings().rpc
    run_demo(Chain.connect(url) if url else Chain.embedded(), say=click.echo)


for group in (identity, consent, account, passport, brand, index, epcis, bulk_group):
    cli.add_command(group)


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
            else NodeUnreachable(
                f"The node stopped answering ({exc.__class__.__name__}): is it still running? Once it is back, "
                "re-run the command (`epcis import` and `bulk` resume without recording anything twice)."
            )
        )
        if "--json" in args:
            click.echo(json.dumps({"error": str(error), "kind": type(error).__name__}))
        else:
            click.echo(f"error: {error}", err=True)
        sys.exit(1)
