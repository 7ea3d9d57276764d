"""The passports' own ERC-721 against OpenZeppelin's ERC721, the independent implementation.

The passports keep their own ERC-721 (an owner shares a storage slot with the passport's
state and custody, and OpenZeppelin's ERC721 does not fit in the contract beside the
lifecycle: docs/how-it-works.md, "Building blocks"). Here both take the same random
sequences of approvals and transfers, from the same accounts, on the same tokens, and
must agree on every call (refused or not) and every answer after it: owners, balances,
approvals and operators. OpenZeppelin 5.7's ERC721 needs `mcopy` (Cancun), so this runs
on Anvil (Prague; not Ganache, whose EVM is shanghai), in a deployment of its own that the
module takes away after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from accounts import credential_for
from hypothesis import given, settings
from hypothesis import strategies as st
from solidity import compile_conformance_contract
from web3.contract import Contract

from chainpass.chain import Chain
from chainpass.deployment import deploy
from chainpass.enums import Level, Role
from chainpass.identity import IdentityRegistry
from chainpass.node import AnvilNode
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import ProductKey

ZERO = "0x" + "00" * 20
TOKENS = 3


@dataclass
class Pair:
    """The passports and the reference, holding the same tokens for the same owners."""

    chain: Chain
    passports: Contract
    reference: Contract
    ids: list[int]
    #: Who sends: the producer that holds every token at first, and three others.
    accounts: list[str]

    def both(self) -> tuple[Contract, Contract]:
        return self.passports, self.reference


@pytest.fixture(scope="module")
def pair(anvil_node: AnvilNode) -> Iterator[Pair]:
    """A deployment of its own on the session's Anvil, taken away after the module."""
    chain = Chain.connect(anvil_node.url)
    before = chain.snapshot()
    yield _pair(chain)
    chain.revert(before)


def _pair(chain: Chain) -> Pair:
    governor, bureau, registrar, producer, *others = chain.dev_accounts()[:7]
    deployment, _ = deploy(chain, governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    passports = ProductPassports.from_deployment(chain, deployment)
    registry.appoint_authority(bureau, Level.HIGH, sender=governor)
    expires = chain.latest_timestamp() + 10**8
    for org, role in ((producer, Role.PRODUCER), (registrar, Role.REGISTRAR)):
        registry.verify(credential_for(org), Level.HIGH, expires, sender=bureau)
        passports.set_roles(org, role, sender=governor)
    passports.register_prefix("9506000", producer, sender=registrar)
    ids = passports.commission([ProductKey.item("9506000134352", f"NFT{i}") for i in range(TOKENS)], sender=producer)
    artifact = compile_conformance_contract("ReferenceERC721")
    address = chain.deploy(artifact, [], governor)["contractAddress"]
    assert address is not None
    reference = chain.contract(artifact, address)
    for id_ in ids:
        chain.transact(reference.functions.mint(producer, id_), governor)
    return Pair(chain, passports.contract, reference, ids, [producer, *others[:3]])


#: One step: (function, sender index, two account indexes, token index, a flag).
STEP = st.tuples(
    st.sampled_from(["approve", "setApprovalForAll", "transferFrom", "safeTransferFrom"]),
    st.integers(0, 3),
    st.integers(-1, 3),  # -1: the zero address
    st.integers(-1, 3),
    st.integers(0, TOKENS),  # TOKENS: a token neither has
    st.booleans(),
)


def arguments(pair: Pair, step: tuple[str, int, int, int, int, bool]) -> tuple[str, list[Any]]:
    name, _sender, a, b, token, flag = step
    account = [*pair.accounts, ZERO]
    first, second = account[a], account[b]
    id_ = pair.ids[token] if token < TOKENS else 12345
    if name == "approve":
        return name, [second, id_]
    if name == "setApprovalForAll":
        return name, [second if second != ZERO else pair.accounts[1], flag]  # a zero operator: see below
    return name, [first, second, id_]


def outcome(pair: Pair, contract: Contract, name: str, args: list[Any], sender: str) -> bool:
    """Sends the call if the contract takes it; whether it did."""
    call = getattr(contract.functions, name)(*args)
    try:
        call.call({"from": sender})
    except Exception:
        return False
    pair.chain.w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "gas": 500_000}))
    return True


def state(pair: Pair, contract: Contract) -> dict[str, Any]:
    functions = contract.functions
    return {
        "owners": [functions.ownerOf(i).call() for i in pair.ids],
        "approved": [functions.getApproved(i).call() for i in pair.ids],
        "balances": [functions.balanceOf(a).call() for a in pair.accounts],
        "operators": [[functions.isApprovedForAll(a, b).call() for b in pair.accounts] for a in pair.accounts],
    }


@settings(max_examples=8, deadline=None)
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_the_passports_and_openzeppelin_agree_on_every_step(pair: Pair, steps: list[Any]) -> None:
    snapshot = pair.chain.snapshot()
    try:
        for step in steps:
            name, args = arguments(pair, step)
            sender = pair.accounts[step[1]]
            taken = [outcome(pair, contract, name, args, sender) for contract in pair.both()]
            assert taken[0] == taken[1], (
                f"{name}{tuple(args)} from {sender}: passports {taken[0]}, OpenZeppelin {taken[1]}"
            )
            assert state(pair, pair.passports) == state(pair, pair.reference), f"after {name}{tuple(args)}"
    finally:
        pair.chain.revert(snapshot)


def test_the_steps_do_move_tokens(pair: Pair) -> None:
    """Not vacuous: an approved account's transfer moves the token on both, and the
    approval is spent on both."""
    producer, buyer, agent, _ = pair.accounts
    snapshot = pair.chain.snapshot()
    try:
        for contract in pair.both():
            assert outcome(pair, contract, "approve", [agent, pair.ids[0]], producer)
            assert outcome(pair, contract, "transferFrom", [producer, buyer, pair.ids[0]], agent)
            assert not outcome(pair, contract, "transferFrom", [buyer, producer, pair.ids[0]], agent)
        assert state(pair, pair.passports) == state(pair, pair.reference)
        assert state(pair, pair.passports)["owners"][0] == buyer
    finally:
        pair.chain.revert(snapshot)


def test_a_zero_operator_is_where_they_differ(pair: Pair) -> None:
    """The one difference found: OpenZeppelin refuses the zero address as an operator
    (`ERC721InvalidOperator`); the passports, as the standard itself, accept it, and the
    zero address can send nothing, so it can move nothing."""
    producer = pair.accounts[0]
    snapshot = pair.chain.snapshot()
    try:
        taken = [outcome(pair, contract, "setApprovalForAll", [ZERO, True], producer) for contract in pair.both()]
        assert taken == [True, False]
    finally:
        pair.chain.revert(snapshot)
