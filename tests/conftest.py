"""Fixtures: every chain-facing test runs on the embedded EVM and on a real Anvil node.

The Anvil node is started by the session on 127.0.0.1 (a free port) and stopped at the
end. ``--backend embedded`` or ``--backend anvil`` narrows a local run to one; CI runs
both. Each test starts from the same deployed registry (roles appointed) and is
isolated by a snapshot taken before it and reverted after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_typing import ChecksumAddress

from chainpass.chain import Chain
from chainpass.deployment import Deployment, deploy
from chainpass.identity import IdentityRegistry, Level, Sector
from chainpass.node import AnvilNode, free_port

BACKENDS = ("embedded", "anvil")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="run chain tests on this backend only (repeatable); default: both",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend") or list(BACKENDS)
        metafunc.parametrize("backend", chosen, scope="session")


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    node = AnvilNode(port=free_port()).start()
    yield node
    node.stop()


@dataclass(frozen=True)
class Roles:
    """Who is who in the tests: dev accounts by role."""

    governor: ChecksumAddress
    bureau: ChecksumAddress  # an authority that may grant high
    clinic: ChecksumAddress  # an authority that may grant only low
    bank: ChecksumAddress
    hotel: ChecksumAddress
    holder: ChecksumAddress
    other_holder: ChecksumAddress
    stranger: ChecksumAddress


@dataclass(frozen=True)
class World:
    chain: Chain
    deployment: Deployment
    registry: IdentityRegistry
    roles: Roles


@pytest.fixture(scope="session")
def world_session(backend: str, request: pytest.FixtureRequest) -> World:
    if backend == "anvil":
        chain = Chain.connect(request.getfixturevalue("anvil_node").url)
    else:
        chain = Chain.embedded()
    accounts = chain.dev_accounts()
    roles = Roles(*accounts[:8])
    deployment, _ = deploy(chain, roles.governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    registry.appoint_authority(roles.bureau, Level.HIGH, sender=roles.governor)
    registry.appoint_authority(roles.clinic, Level.LOW, sender=roles.governor)
    registry.appoint_relying_party(roles.bank, Sector.BANK, sender=roles.governor)
    registry.appoint_relying_party(roles.hotel, Sector.HOTEL, sender=roles.governor)
    return World(chain, deployment, registry, roles)


@pytest.fixture
def world(world_session: World) -> Iterator[World]:
    snapshot = world_session.chain.snapshot()
    yield world_session
    world_session.chain.revert(snapshot)


@pytest.fixture
def chain(world: World) -> Chain:
    return world.chain


@pytest.fixture
def registry(world: World) -> IdentityRegistry:
    return world.registry


@pytest.fixture
def roles(world: World) -> Roles:
    return world.roles
