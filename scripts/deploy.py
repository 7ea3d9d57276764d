"""Deploy the chainpass contracts from a script: the same as `chainpass deploy`.

    python scripts/deploy.py [--rpc URL] [--account 0] [--home DIR] [--chain-id N] [--replace]
                             [--governor ADDRESS] [--guardian ADDRESS]
    ape run deploy --network ethereum:local:foundry [--account 0] [--home DIR] [--replace]
                   [--governor ADDRESS] [--guardian ADDRESS]

One file, two front ends. Both call chainpass.deployment.deploy() and write chainpass's
own deployment record (HOME/deployments/<chain id>-<genesis hash>.json, HOME being --home,
$CHAINPASS_HOME or ~/.chainpass), so every `chainpass` command finds the contracts; both
find a deployment that checks out instead of deploying again (same addresses, nothing
sent). Under ape the node is the one ape's --network connects to: with
`ethereum:local:foundry`, the Anvil on 127.0.0.1:8545 (`chainpass node`) if one runs
there, else one ape starts and stops when the script ends (see ape-config.yaml).

Safe to re-run: an existing deployment that checks out is found and nothing changes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainpass.accounts import KeystoreDirectory
from chainpass.chain import Chain
from chainpass.deployment import Deployment, DeploymentStore, deploy, load_deployment
from chainpass.errors import ChainpassError, DeploymentError, InvalidInput

DEFAULT_RPC = "http://127.0.0.1:8545"
GOVERNOR_HELP = "who governs both contracts, an address (default: the deployer, a plain key for local development)"
GUARDIAN_HELP = "who may pause both contracts in an incident, never the governor (default: nobody)"


def _default_home() -> Path:
    return Path(os.environ.get("CHAINPASS_HOME") or Path.home() / ".chainpass")


def _password_from_environment(prompt: str) -> str:
    password = os.environ.get("CHAINPASS_PASSWORD")
    if password is None:
        raise InvalidInput(f"{prompt}: set CHAINPASS_PASSWORD in the environment.")
    return password


def deploy_or_find(
    rpc: str,
    account: str,
    home: Path,
    *,
    chain_id: int | None = None,
    replace: bool = False,
    governor: str | None = None,
    guardian: str | None = None,
    say: Callable[[str], Any] = print,
) -> Deployment:
    """Deploy to the node at ``rpc``, or find the recorded deployment there; say which.

    The deployment is read back through :func:`load_deployment`, as every `chainpass`
    command reads it, before this returns. ``governor`` and ``guardian`` are as in
    :func:`chainpass.deployment.deploy` (the governor an address: `chainpass deploy
    --governor timelock` reads the timelock from the governance record).
    """
    chain = Chain.connect(rpc, expected_chain_id=chain_id)
    store = DeploymentStore(home / "deployments")
    sender = KeystoreDirectory(home / "keystores").sender(chain, account, _password_from_environment)
    deployment, created = deploy(chain, sender, store, replace=replace, governor=governor, guardian=guardian)
    if load_deployment(chain, store) != deployment:
        raise DeploymentError(f"The record {store.path_for(chain)} does not read back as written.")
    verb = "deployed" if created else "found"
    for name, contract in deployment.contracts.items():
        say(f"{verb} {name} at {contract.address} on chain {deployment.chain_id}")
    say(f"record: {store.path_for(chain)}")
    return deployment


def main(argv: list[str] | None = None) -> int:
    """`python scripts/deploy.py`: the node is --rpc (or $CHAINPASS_RPC)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    rpc = os.environ.get("CHAINPASS_RPC") or DEFAULT_RPC
    parser.add_argument("--rpc", default=rpc, help="JSON-RPC URL of the node")
    parser.add_argument(
        "--account",
        default="0",
        help="the deployer: a keystore account (password from $CHAINPASS_PASSWORD), or a dev account's index",
    )
    parser.add_argument("--home", type=Path, default=_default_home(), help="chainpass home folder")
    parser.add_argument("--chain-id", type=int, help="refuse a node on any other chain")
    parser.add_argument("--replace", action="store_true", help="deploy afresh even if a record exists")
    parser.add_argument("--governor", help=GOVERNOR_HELP)
    parser.add_argument("--guardian", help=GUARDIAN_HELP)
    args = parser.parse_args(argv)
    try:
        deploy_or_find(
            args.rpc,
            args.account,
            args.home,
            chain_id=args.chain_id,
            replace=args.replace,
            governor=args.governor,
            guardian=args.guardian,
        )
    except ChainpassError as exc:
        message = str(exc).replace("`chainpass deploy", "`python scripts/deploy.py")
        print(f"error: {message}", file=sys.stderr)
        return 1
    return 0


def _ape_command() -> Any:
    """`ape run deploy`: the node is the one ape's --network option connected to."""
    import click
    from ape import project
    from ape.cli import ConnectedProviderCommand

    @click.command(cls=ConnectedProviderCommand, short_help="Deploy the chainpass contracts, or find them")
    @click.option(
        "--account",
        default="0",
        show_default=True,
        help="The deployer: a chainpass keystore account (password from $CHAINPASS_PASSWORD), "
        "or the index of one of the node's dev accounts.",
    )
    @click.option(
        "--home",
        type=click.Path(path_type=Path),
        envvar="CHAINPASS_HOME",
        default=Path.home() / ".chainpass",
        show_default="$CHAINPASS_HOME or ~/.chainpass",
        help="chainpass home folder: the deployment record goes to HOME/deployments.",
    )
    @click.option("--replace", is_flag=True, help="Deploy afresh even if a record exists.")
    @click.option("--governor", help=GOVERNOR_HELP)
    @click.option("--guardian", help=GUARDIAN_HELP)
    def deploy_command(
        provider: Any, account: str, home: Path, replace: bool, governor: str | None, guardian: str | None
    ) -> None:
        try:
            deployment = deploy_or_find(
                provider.http_uri,
                account,
                home,
                chain_id=provider.chain_id,
                replace=replace,
                governor=governor,
                guardian=guardian,
                say=click.echo,
            )
        except ChainpassError as exc:
            raise click.ClickException(str(exc).replace("`chainpass deploy", "`ape run deploy")) from None
        # ape reads the same contracts through its own build of contracts/.
        registry = project.IdentityRegistry.at(deployment.address("IdentityRegistry"))
        passports = project.ProductPassport.at(deployment.address("ProductPassport"))
        if passports.identityRegistry() != registry.address:
            raise click.ClickException(f"ProductPassport at {passports.address} does not use this registry.")
        click.echo(f"ape reads them: registry governed by {registry.governor()}, passports use the registry")
        if getattr(provider, "process", None) is not None:
            click.echo(
                f"note: ape started this node ({provider.http_uri}) and stops it when this script ends, and "
                "the deployment goes with it; to keep it, run `chainpass node` first: ape then deploys to it."
            )

    return deploy_command


# `ape run deploy` loads this module (not as __main__) and runs the click command `cli`.
if "ape" in sys.modules:
    cli = _ape_command()

if __name__ == "__main__":
    raise SystemExit(main())
