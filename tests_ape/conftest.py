"""Fixtures of the ape suite (`ape test tests_ape`, or `make ape-check`).

ape deploys the contracts it compiled from contracts/ (`project.IdentityRegistry`),
from its test accounts, on the network ape-config.yaml names (Anvil through
ape-foundry), each behind OpenZeppelin's transparent proxy as chainpass deploys them
(the proxy's bytecode from chainpass's artifact: it is not one of the project's
sources). The module-scoped fixtures run once; ape's chain isolation takes a
snapshot around every test and reverts it afterwards, so each test starts from the
same deployed, governed registry and passport contract.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from ape.contracts import ContractContainer
from ethpm_types import ContractType
from world import (
    CARRIER,
    COOP_PREFIX,
    COOP_PREFIX_LENGTH,
    LEVEL_HIGH,
    PRODUCER,
    RECOVERY_DELAY,
    REGISTRAR,
    SECTOR_BANK,
    TEN_YEARS,
    Actors,
    commitment,
)

from chainpass.artifacts import load_artifact
from chainpass.chain import ZERO_ADDRESS
from chainpass.deployment import PROXY

# A private Anvil on a free port, never a node the user runs on 127.0.0.1:8545
# (ape-config.yaml's host, which `ape run deploy` is meant to find): unless
# APE_FOUNDRY_HOST says otherwise. ape-foundry reads it when it connects, after this.
os.environ.setdefault("APE_FOUNDRY_HOST", "auto")


@pytest.fixture(scope="session")
def actors(accounts: Any) -> Actors:
    return Actors(*accounts[:8])


def behind_proxy(project: Any, name: str, args: list[Any], governor: Any) -> Any:
    """``name``'s implementation, deployed with ``args``, behind a new proxy set up for ``governor``."""
    implementation = getattr(project, name).deploy(*args, sender=governor)
    artifact = load_artifact(PROXY)
    proxy_type = ContractType.model_validate(
        {
            "contractName": PROXY,
            "abi": artifact.abi,
            "deploymentBytecode": {"bytecode": "0x" + artifact.bytecode.hex()},
        }
    )
    setup = implementation.initialize.encode_input(governor.address, ZERO_ADDRESS)
    proxy = ContractContainer(proxy_type).deploy(implementation, governor, setup, sender=governor)
    return getattr(project, name).at(proxy.address)


@pytest.fixture(scope="module")
def registry(project: Any, actors: Actors) -> Any:
    return behind_proxy(project, "IdentityRegistry", [RECOVERY_DELAY], actors.governor)


@pytest.fixture(scope="module")
def passports(project: Any, actors: Actors, registry: Any) -> Any:
    return behind_proxy(project, "ProductPassport", [registry], actors.governor)


@pytest.fixture(scope="module")
def bureau(registry: Any, actors: Actors) -> Any:
    """A registry whose bureau is an appointed authority (high) and whose bank a relying party."""
    registry.appointAuthority(actors.bureau, LEVEL_HIGH, sender=actors.governor)
    registry.appointRelyingParty(actors.bank, SECTOR_BANK, sender=actors.governor)
    return actors.bureau


@pytest.fixture(scope="module")
def supply_chain(chain: Any, registry: Any, passports: Any, bureau: Any, actors: Actors) -> Any:
    """The cooperative (producer), the carrier and a GS1 member organisation (registrar),
    verified by the bureau and given their roles; the registrar registers the cooperative's
    GS1 company prefix to it, so it may commission its codes."""
    expires = chain.pending_timestamp + TEN_YEARS
    for org, role in ((actors.coop, PRODUCER), (actors.carrier, CARRIER), (actors.registrar, REGISTRAR)):
        registry.verify(org, commitment(org.address), LEVEL_HIGH, expires, sender=bureau)
        passports.setRoles(org, role, sender=actors.governor)
    passports.registerPrefix(COOP_PREFIX, COOP_PREFIX_LENGTH, actors.coop, sender=actors.registrar)
    return passports
