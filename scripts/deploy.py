"""Deploy the chainpass contracts from a script: the same as `chainpass deploy`.

    python scripts/deploy.py --rpc http://127.0.0.1:8545 --account 0 [--home DIR] [--replace]

Safe to re-run: an existing deployment that checks out is found and nothing changes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from chainpass.accounts import KeystoreDirectory
from chainpass.chain import Chain
from chainpass.deployment import DeploymentStore, deploy
from chainpass.errors import ChainpassError, InvalidInput


def _password_from_environment(prompt: str) -> str:
    password = os.environ.get("CHAINPASS_PASSWORD")
    if password is None:
        raise InvalidInput(f"{prompt}: set CHAINPASS_PASSWORD in the environment.")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpc", default="http://127.0.0.1:8545", help="JSON-RPC URL of the node")
    parser.add_argument(
        "--account",
        default="0",
        help="the deployer: a keystore account (password from $CHAINPASS_PASSWORD), or a dev account's index",
    )
    parser.add_argument("--home", type=Path, default=Path.home() / ".chainpass", help="chainpass home folder")
    parser.add_argument("--chain-id", type=int, help="refuse a node on any other chain")
    parser.add_argument("--replace", action="store_true", help="deploy afresh even if a record exists")
    args = parser.parse_args(argv)
    try:
        chain = Chain.connect(args.rpc, expected_chain_id=args.chain_id)
        store = DeploymentStore(args.home / "deployments")
        keystores = KeystoreDirectory(args.home / "keystores")
        sender = keystores.sender(chain, args.account, _password_from_environment)
        deployment, created = deploy(chain, sender, store, replace=args.replace)
    except ChainpassError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, contract in deployment.contracts.items():
        verb = "deployed" if created else "found"
        print(f"{verb} {name} at {contract.address} on chain {deployment.chain_id}")
    print(f"record: {store.path(deployment.chain_id)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
