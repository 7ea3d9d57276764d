"""`chainpass upgrade`: move a contract's proxy to a new implementation, keeping its state.

Each contract sits behind OpenZeppelin's transparent proxy; its ProxyAdmin's owner, the
governor, alone upgrades (docs/upgrades.md). The steps: `upgrade prepare` deploys this
package's implementation (anyone may: it changes nothing); a plain-key governor then runs
`upgrade apply`, a timelock governor writes a proposal (`chainpass governance propose
upgrade`) that its Safe's owners sign and that runs after the delay. `upgrade status`
shows what runs behind each proxy now.
"""

from __future__ import annotations

import click

from chainpass.artifacts import DEPLOYABLE_CONTRACTS, load_artifact
from chainpass.cli.common import AddressType, account_option, emit, json_option, report, settings
from chainpass.deployment import (
    deploy_implementation,
    implementation_of,
    load_deployment,
    proxy_admin,
    upgrade,
)

#: The contracts, by the name the operator types.
CONTRACTS = {"registry": "IdentityRegistry", "passports": "ProductPassport"}
assert tuple(CONTRACTS.values()) == DEPLOYABLE_CONTRACTS

contract_argument = click.argument("contract", type=click.Choice(list(CONTRACTS)))


@click.group("upgrade")
def upgrade_group() -> None:
    """Upgrade a contract behind its proxy, state intact (docs/upgrades.md)."""


@upgrade_group.command("status")
@json_option
def status_command(as_json: bool) -> None:
    """What runs behind each proxy: the implementation, its version, whether it is this package's build."""
    options = settings()
    chain = options.connect()
    deployment = load_deployment(chain, options.store)
    rows = []
    for short, name in CONTRACTS.items():
        address = deployment.address(name)
        implementation = implementation_of(chain, address)
        contract = chain.contract(load_artifact(name), address)
        rows.append(
            {
                "contract": short,
                "address": address,
                "implementation": implementation,
                "version": contract.functions.version().call(),
                "this_package": load_artifact(name).built_this(bytes(chain.w3.eth.get_code(implementation))),
                "proxy_admin": proxy_admin(chain, deployment, name).address,
                "upgraded_by": proxy_admin(chain, deployment, name).functions.owner().call(),
            }
        )

    def human() -> str:
        return "\n".join(
            f"{row['contract']}: {row['address']} runs {row['implementation']} (version {row['version']}, "
            f"{'this package' if row['this_package'] else 'another build than this package'}'s); upgraded by "
            f"{row['upgraded_by']} through ProxyAdmin {row['proxy_admin']}"
            for row in rows
        )

    emit(rows, human, as_json)


@upgrade_group.command("prepare")
@contract_argument
@click.option(
    "--registry",
    type=AddressType("registry"),
    help="For the passports: the identity registry the new implementation follows [default: the one they follow].",
)
@account_option
@json_option
def prepare_command(contract: str, registry: str | None, account: str, as_json: bool) -> None:
    """Deploy this package's implementation of CONTRACT (registry or passports): nothing changes yet."""
    options = settings()
    chain = options.connect()
    deployment = load_deployment(chain, options.store)
    name = CONTRACTS[contract]
    address = deploy_implementation(chain, deployment, name, options.sender(chain, account), registry=registry)
    data = {"contract": contract, "implementation": address}
    human = (
        f"Deployed {name}'s implementation at {address}; the proxy {deployment.address(name)} still runs the old "
        "one. Next: a plain-key governor runs `chainpass upgrade apply "
        f"{contract} {address}`; under a timelock, `chainpass governance propose upgrade {contract} {address} "
        "--out FILE`."
    )
    emit(data, lambda: human, as_json)


@upgrade_group.command("apply")
@contract_argument
@click.argument("implementation", type=AddressType("implementation"))
@account_option
@json_option
def apply_command(contract: str, implementation: str, account: str, as_json: bool) -> None:
    """Upgrade CONTRACT's proxy to IMPLEMENTATION at once (the governor's plain key owns the ProxyAdmin)."""
    options = settings()
    chain = options.connect()
    deployment = load_deployment(chain, options.store)
    name = CONTRACTS[contract]
    receipt = upgrade(chain, deployment, name, implementation, options.sender(chain, account))
    report(
        f"{name} at {deployment.address(name)} now runs {implementation}",
        receipt,
        as_json,
        contract=contract,
        implementation=implementation,
    )
