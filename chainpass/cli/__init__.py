"""The `chainpass` command: operators' CLI. It parses and prints; the library does the work.

Human-readable output by default, ``--json`` on every command for scripts. Errors are
one line on stderr (or a JSON object with ``--json``). Exit codes (docs/cli.md): 0 done,
valid or genuine; 1 an error; 2 a usage mistake; 3 a negative answer (not verified, not
genuine, recalled); 130 interrupted. No tracebacks for user mistakes. The root options
(``--rpc``, ``--home``, ``--json``, ...) may also follow the subcommand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import requests
from web3.exceptions import ContractLogicError, TimeExhausted

from chainpass.chain import RECEIPT_TIMEOUT, Chain, parse_address, sender_address
from chainpass.cli.account import account
from chainpass.cli.brand import brand
from chainpass.cli.bulk import bulk_group
from chainpass.cli.common import (
    DEFAULT_RPC,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    AddressType,
    FiniteFloat,
    Settings,
    account_option,
    emit,
    in_users_words,
    json_option,
    settings,
)
from chainpass.cli.consent import consent
from chainpass.cli.desk import desk
from chainpass.cli.emergency import emergency
from chainpass.cli.epcis import epcis
from chainpass.cli.finance import finance
from chainpass.cli.governance import governance
from chainpass.cli.governance import store as governance_store
from chainpass.cli.identity import identity
from chainpass.cli.index import index
from chainpass.cli.passport import passport
from chainpass.cli.serve import DEFAULT_HOST
from chainpass.cli.serve import DEFAULT_PORT as DEFAULT_SERVICE_PORT
from chainpass.cli.serve import serve as serve_command
from chainpass.cli.upgrade import upgrade_group
from chainpass.deployment import DeploymentStore, deploy
from chainpass.errors import ChainpassError, ContractRevert, Interrupted, InvalidInput, NodeUnreachable
from chainpass.fees import GWEI, FeePolicy
from chainpass.node import DEFAULT_PORT, GANACHE_CHAIN_ID, AnvilNode, GanacheNode, serve
from chainpass.passport import METADATA_PATH, ProductPassports
from chainpass.passport import metadata_base as check_metadata_base
from chainpass.reverts import decode_revert, revert_data_from_exception
from chainpass.standards.gs1 import parse_code
from chainpass.web.resolver import PIP

# ---------------------------------------------------------------------- root

#: The largest fee in gwei an option takes (a million gwei per gas: far above any chain's).
MAX_GWEI = 1e6
#: The most confirmations a command waits for.
MAX_CONFIRMATIONS = 10_000
#: The longest a command waits for a receipt (a day).
MAX_WAIT = 86_400.0


@click.group()
@click.option("--rpc", envvar="CHAINPASS_RPC", help=f"JSON-RPC URL of the node [default: {DEFAULT_RPC}].")
@click.option(
    "--chain-id",
    type=click.IntRange(1, 2**64 - 1),
    envvar="CHAINPASS_CHAIN_ID",
    help="Refuse a node on any other chain.",
)
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
    type=FiniteFloat(MAX_GWEI),
    envvar="CHAINPASS_MAX_FEE_GWEI",
    help="Never pay more than this per gas: a transaction the chain would charge more is refused, unsent.",
)
@click.option(
    "--priority-fee-gwei",
    type=FiniteFloat(MAX_GWEI),
    envvar="CHAINPASS_PRIORITY_FEE_GWEI",
    help="The tip per gas [default: the node's suggestion].",
)
@click.option(
    "--confirmations",
    type=click.IntRange(0, MAX_CONFIRMATIONS),
    envvar="CHAINPASS_CONFIRMATIONS",
    default=0,
    show_default=True,
    help="Blocks on top of each transaction before a command reports it done.",
)
@click.option(
    "--wait",
    type=FiniteFloat(MAX_WAIT, positive=True),
    envvar="CHAINPASS_WAIT",
    default=RECEIPT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for a transaction to be mined, and again for its confirmations, before stopping.",
)
@click.option(
    "--index-db",
    envvar="CHAINPASS_INDEX_DB",
    help="Where the trace index is kept: a SQLite file, or a PostgreSQL server (postgresql://user@host:port/db) "
    "that several machines share [default: a file in HOME/index].",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts (every command).")
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
    wait: float,
    index_db: str | None,
    as_json: bool,
) -> None:
    """chainpass: verified identity and product passports on an EVM chain."""
    fees = FeePolicy(
        max_priority_fee_per_gas=None if priority_fee_gwei is None else round(priority_fee_gwei * GWEI),
        cap_per_gas=None if max_fee_gwei is None else round(max_fee_gwei * GWEI),
    )
    ctx.obj = Settings(
        rpc=rpc,
        chain_id=chain_id,
        home=home,
        fees=fees,
        confirmations=confirmations,
        wait=wait,
        index_db=index_db,
        json=as_json,
    )


@cli.command()
@click.option(
    "--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True, help="Port on 127.0.0.1."
)
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
    """Run a local Anvil node on 127.0.0.1 until Ctrl-C; its state survives restarts.

    Ctrl-C, SIGTERM and SIGHUP stop the node cleanly; it never outlives this command.
    """
    running: AnvilNode | GanacheNode
    if ganache:
        db_dir = None if ephemeral else (state_file or settings().home / "ganache-db")
        running = GanacheNode(port=port, db_dir=db_dir)
        where = f"Ganache is listening on {running.url} (chain id {GANACHE_CHAIN_ID}); state: {db_dir or 'none'}."
    else:
        state = None if ephemeral else (state_file or settings().home / "anvil-state.json")
        running = AnvilNode(port=port, state_file=state, quiet=True, managed_state=True)
        where = f"Anvil is listening on {running.url} (chain id 31337); state: {state or 'none'}."

    def ready(_: object) -> None:
        if isinstance(running, AnvilNode) and running.restored_state:
            click.echo(
                f"note: {running.state_file} was damaged (the node was killed while writing it); started from its "
                "last good copy.",
                err=True,
            )
        click.echo(f"{where} Ctrl-C stops it.")

    code = serve(running, ready)
    if code:
        click.echo(f"{running.program} stopped by itself (exit code {code}); chainpass node ends.", err=True)
    sys.exit(code)


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
@click.option(
    "--governor",
    help="Who governs both contracts: an address, or `timelock` for the timelock of `chainpass governance setup` "
    "[default: the deploying account, a plain key for local development].",
)
@click.option(
    "--guardian",
    type=AddressType("guardian"),
    help="Who may pause both contracts in an incident (`chainpass emergency`); not the governor "
    "[default: nobody until the governor names one].",
)
@click.option(
    "--metadata-base",
    help="Point the passports' ERC-721 tokenURI at this URL followed by each id, e.g. "
    "https://id.example.org/metadata/ where `chainpass serve` runs (a plain-key governor only; a timelock "
    "governor: `chainpass governance propose set-metadata-base`).",
)
@json_option
def deploy_command(
    account: str, replace: bool, governor: str | None, guardian: str | None, metadata_base: str | None, as_json: bool
) -> None:
    """Deploy the contracts, or find them if already deployed; record where they live."""
    options = settings()
    base = check_metadata_base(metadata_base) if metadata_base is not None else None
    chain = options.connect()
    if governor is not None and governor.strip().lower() == "timelock":
        governor = governance_store(options).load(chain).timelock
    sender = options.sender(chain, account)
    if base is not None and governor is not None and parse_address(governor, "governor") != sender_address(sender):
        raise InvalidInput(
            f"--metadata-base is set by the governor, and {governor} governs, not {sender_address(sender)}: deploy "
            "without it, then `chainpass governance propose set-metadata-base URL --out FILE`."
        )
    deployment, created = deploy(chain, sender, options.store, replace=replace, governor=governor, guardian=guardian)
    data = {"created": created, "record": str(options.store.path_for(chain)), **deployment.to_json()}
    if base is not None:
        passports = ProductPassports.from_deployment(chain, deployment)
        if passports.base_uri() != base:
            passports.set_base_uri(base, sender=sender)
        data["metadata_base"] = base

    def human() -> str:
        verb = "Deployed" if created else "Already deployed, nothing changed:"
        lines = [f"{verb} on chain {chain.chain_id} (record {data['record']})"]
        lines += [
            f"  {name}: {c.address} (block {c.block_number}; a proxy to {c.implementation}, upgraded through "
            f"its ProxyAdmin {c.proxy_admin})"
            if c.implementation is not None
            else f"  {name}: {c.address} (block {c.block_number}; no proxy: never upgraded)"
            for name, c in deployment.contracts.items()
        ]
        args = deployment.contracts["IdentityRegistry"].constructor_args
        lines += [f"  governor at deployment: {args.get('initialGovernor')}"]
        lines += [f"  guardian at deployment: {args.get('initialGuardian') or 'none'}"]
        if base is not None:
            lines += [f"  passports' tokenURI: {base}<id>"]
        return "\n".join(lines)

    emit(data, human, as_json)


@cli.command()
@click.option("--rpc", "demo_rpc", help="Play on this node instead of the embedded chain.")
def demo(demo_rpc: str | None) -> None:
    """Play the product's story, identity, passports, then trade finance, on the embedded chain (or --rpc); about 20 s.

    On a node, the demo's deployment is recorded under HOME/demo (never over the operator's
    own record), so that ``chainpass --home HOME/demo serve`` shows its passports' pages."""
    from chainpass.demo import run_demo

    options = settings()
    url = demo_rpc or options.rpc
    chain = Chain.connect(url) if url else Chain.embedded()
    result = run_demo(chain, say=click.echo)
    bag = parse_code(result.recalled_codes[0])
    service = f"http://{DEFAULT_HOST}:{DEFAULT_SERVICE_PORT}"
    page = service + PIP.prefix + bag.digital_link(service).removeprefix(service)
    # The passports' ERC-721 tokenURI points at the service's metadata (the demo's governor, account 0).
    passports = ProductPassports.from_deployment(chain, result.deployment)
    passports.set_base_uri(service + METADATA_PATH, sender=chain.dev_accounts()[0])
    token = passports.token_uri(ProductPassports.passport_id(bag))  # as the chain answers it
    if url:
        home = options.home / "demo"
        DeploymentStore(home / "deployments").write(result.deployment)
        click.echo(f"24. A shopper scans a recalled bag, {bag}. Its page is {page}")
        click.echo(f"    once the service runs: chainpass --rpc {url} --home {home} serve")
        click.echo(f"    A wallet holding its passport (ERC-721) reads its metadata at its tokenURI, {token}")
    else:
        click.echo(f"24. A shopper scans a recalled bag, {bag}. On a node its page would be {page}:")
        click.echo("    the embedded chain ends with this demo. Run `chainpass node`, then")
        click.echo(f"    `chainpass demo --rpc {DEFAULT_RPC}` and the serve command it prints.")


for group in (
    identity,
    consent,
    account,
    passport,
    brand,
    index,
    epcis,
    bulk_group,
    governance,
    emergency,
    upgrade_group,
    finance,
    serve_command,
    desk,
):
    cli.add_command(group)


# ---------------------------------------------------------------------- main

#: Root options that take a value, and root flags: accepted after the subcommand too.
_ROOT_VALUE_OPTIONS = (
    "--rpc",
    "--chain-id",
    "--home",
    "--max-fee-gwei",
    "--priority-fee-gwei",
    "--confirmations",
    "--wait",
    "--index-db",
)
_ROOT_FLAGS = ("--json",)


def hoist_root_options(args: list[str]) -> list[str]:
    """``args`` with the root options that follow the subcommand moved before it, unless the
    subcommand has an option of that name itself (``index sync --confirmations``)."""
    command: click.Command = cli
    i = 0
    while i < len(args) and isinstance(command, click.Group):
        token = args[i]
        if token in command.commands:
            command = command.commands[token]
        elif command is cli and token in _ROOT_VALUE_OPTIONS:
            i += 1  # its value
        elif not token.startswith("-"):
            return args  # an unknown command: click says so
        i += 1
    own: dict[str, click.Parameter] = {
        name: param for param in command.params for name in (*param.opts, *param.secondary_opts)
    }
    head, rest = list(args[:i]), []
    j = i
    while j < len(args):
        token = args[j]
        if token == "--":
            rest += args[j:]
            break
        name = token.split("=", 1)[0]
        if name in own:
            param = own[name]
            takes_value = isinstance(param, click.Option) and not param.is_flag and not param.count
            rest.append(token)
            if takes_value and "=" not in token and j + 1 < len(args):
                rest.append(args[j + 1])
                j += 1
        elif name in _ROOT_VALUE_OPTIONS:
            if "=" in token or j + 1 >= len(args):
                head.insert(0, token)
            else:
                head[:0] = [token, args[j + 1]]
                j += 1
        elif name in _ROOT_FLAGS:
            head.insert(0, token)
        else:
            rest.append(token)
        j += 1
    return head + rest


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn chainpass errors into one-line messages."""
    args = hoist_root_options(sys.argv[1:] if argv is None else list(argv))
    as_json = "--json" in args
    try:
        cli.main(args=args, prog_name="chainpass", standalone_mode=False)
    except click.exceptions.Abort:
        # The commands whose loss would be final (verify: the credential) say more themselves.
        click.echo(
            "Interrupted. A transaction already sent may still be mined: look before running it again "
            "(`identity status`, `passport show`, ...); a repeat is refused by the contract before it costs gas, "
            "and `bulk` and `epcis import` resume where they stopped.",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ChainpassError, requests.exceptions.ConnectionError, TimeExhausted, OSError, ContractLogicError) as exc:
        if isinstance(exc, ChainpassError):
            error: ChainpassError = exc
        elif isinstance(exc, ContractLogicError):
            # A read the contract refused (e.g. the node is another than the index's).
            data = revert_data_from_exception(exc)
            error = (decode_revert(data) if data else None) or ContractRevert(
                f"The contract refused the request ({exc}): is --rpc the node the contracts were deployed on?",
                "unknown",
                {},
            )
        elif isinstance(exc, OSError) and not isinstance(exc, requests.exceptions.ConnectionError):
            if exc.filename is None:  # not a file the user named: a fault, shown as such
                raise
            # A file the user named cannot be read or written (a folder, no permission, ...).
            error = InvalidInput(f"Cannot use {exc.filename}: {exc.strerror or exc}.")
        elif isinstance(exc, TimeExhausted):
            error = Interrupted(
                f"A transaction was sent but not mined in time ({exc}): it may still be. Look it up on the node "
                "before sending anything again (`epcis import` and `bulk` resume without recording twice).",
                exit_code=EXIT_ERROR,
            )
        else:
            error = NodeUnreachable(
                f"The node stopped answering ({exc.__class__.__name__}): is it still running? Once it is back, "
                "re-run the command (`epcis import` and `bulk` resume without recording anything twice)."
            )
        message = in_users_words(str(error), args)
        if as_json:
            click.echo(json.dumps({"error": message, "kind": type(error).__name__}))
        else:
            click.echo(f"error: {message}", err=True)
        sys.exit(error.exit_code if isinstance(error, Interrupted) else EXIT_ERROR)
