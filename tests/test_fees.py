"""Fees with an operator's cap, and confirmations, on a real Anvil node of this module's own
(the base fee is pushed around here, which other modules' nodes must not see)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.types import Wei

from chainpass.chain import Chain, sender_address
from chainpass.cli import main
from chainpass.deployment import Deployment, deploy
from chainpass.enums import Level
from chainpass.errors import InvalidInput
from chainpass.fees import GWEI, FeeCapExceeded, FeePolicy
from chainpass.identity import IdentityRegistry
from chainpass.node import AnvilNode, free_port

#: Anvil's first dev key (public knowledge: its default mnemonic).
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    with AnvilNode(port=free_port()) as anvil:
        yield anvil


@pytest.fixture
def chain(node: AnvilNode) -> Iterator[Chain]:
    chain = Chain.connect(node.url)
    snapshot = chain.snapshot()
    next_base_fee(chain, GWEI)  # a revert leaves the base fee where a test pushed it
    yield chain
    chain.revert(snapshot)


def next_base_fee(chain: Chain, wei: int) -> None:
    chain.w3.provider.make_request(cast(Any, "anvil_setNextBlockBaseFeePerGas"), [hex(wei)])


def deployed(chain: Chain, signer: LocalAccount | str) -> Deployment:
    deployment, _ = deploy(chain, signer)
    return deployment


def test_a_fee_above_the_cap_is_refused_before_anything_is_signed(node: AnvilNode, chain: Chain) -> None:
    signer: LocalAccount = Account.from_key(DEV_KEY)
    capped = Chain.connect(node.url, fees=FeePolicy(cap_per_gas=20 * GWEI))
    capped_registry = IdentityRegistry.from_deployment(capped, deployed(chain, signer))
    nonce = chain.w3.eth.get_transaction_count(signer.address, "pending")
    chain.advance_time(1)  # a block, so the next base fee below is what the chain asks for now
    next_base_fee(chain, 50 * GWEI)
    chain.advance_time(1)

    with pytest.raises(FeeCapExceeded, match=r"above your cap of 20\.000 gwei: nothing was sent"):
        capped_registry.appoint_authority(chain.dev_accounts()[1], Level.HIGH, sender=signer)

    assert chain.w3.eth.get_transaction_count(signer.address, "pending") == nonce


@pytest.mark.parametrize("local_key", [True, False], ids=["keystore-signed", "node-signed"])
def test_transactions_pay_the_policy_s_fees_within_the_cap(node: AnvilNode, chain: Chain, local_key: bool) -> None:
    signer = Account.from_key(DEV_KEY) if local_key else chain.dev_accounts()[0]
    policy = FeePolicy(max_priority_fee_per_gas=3 * GWEI, cap_per_gas=40 * GWEI)
    capped = IdentityRegistry.from_deployment(Chain.connect(node.url, fees=policy), deployed(chain, signer))

    receipt = capped.appoint_authority(chain.dev_accounts()[1], Level.HIGH, sender=signer)

    tx = chain.w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["maxPriorityFeePerGas"] == 3 * GWEI
    assert 3 * GWEI < tx["maxFeePerGas"] <= 40 * GWEI
    assert receipt["effectiveGasPrice"] <= 40 * GWEI


def test_confirmations_wait_for_blocks_on_top(node: AnvilNode, chain: Chain) -> None:
    signer: LocalAccount = Account.from_key(DEV_KEY)
    waiting = IdentityRegistry.from_deployment(Chain.connect(node.url, confirmations=3), deployed(chain, signer))
    stop = threading.Event()

    def mine_now_and_then() -> None:  # another party's blocks, as on a live chain
        miner = Chain.connect(node.url)
        while not stop.wait(0.2):
            miner.mine()

    thread = threading.Thread(target=mine_now_and_then, daemon=True)
    thread.start()
    try:
        receipt = waiting.appoint_authority(chain.dev_accounts()[1], Level.HIGH, sender=signer)
        head = chain.w3.eth.block_number
    finally:
        stop.set()
        thread.join()

    assert receipt["status"] == 1
    assert head >= receipt["blockNumber"] + 3


def test_confirmations_cannot_be_negative(node: AnvilNode) -> None:
    with pytest.raises(InvalidInput, match="Confirmations must be 0 or more"):
        Chain.connect(node.url, confirmations=-1)


def test_cli_refuses_a_fee_above_the_cap_in_one_sentence(
    node: AnvilNode, chain: Chain, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.w3.eth.send_transaction({"from": chain.dev_accounts()[0], "to": chain.dev_accounts()[1], "value": Wei(1)})
    next_base_fee(chain, 80 * GWEI)
    chain.mine()
    block = chain.w3.eth.block_number
    argv = ["--rpc", node.url, "--home", str(tmp_path), "--max-fee-gwei", "25", "deploy"]

    with pytest.raises(SystemExit) as exit_:
        main(argv)

    err = capsys.readouterr().err
    assert exit_.value.code != 0
    assert "above your cap of 25.000 gwei: nothing was sent" in err
    assert "Traceback" not in err
    assert chain.w3.eth.block_number == block
    assert not (tmp_path / "deployments").exists() or not any((tmp_path / "deployments").iterdir())


@pytest.mark.parametrize("local_key", [True, False], ids=["keystore-signed", "node-signed"])
def test_transaction_fields_keep_the_cap_too(node: AnvilNode, chain: Chain, local_key: bool) -> None:
    """Calldata encoded here (what bulk work sends one at a time for keys the node holds) goes
    the same way as a contract call: the same cap applies."""
    signer = Account.from_key(DEV_KEY) if local_key else chain.dev_accounts()[0]
    deployment = deployed(chain, signer)
    capped = Chain.connect(node.url, fees=FeePolicy(max_priority_fee_per_gas=2 * GWEI, cap_per_gas=20 * GWEI))
    raw = IdentityRegistry.from_deployment(capped, deployment).call(
        "appointAuthority", chain.dev_accounts()[1], int(Level.HIGH)
    )

    receipt = capped.transact(raw, signer)
    next_base_fee(chain, 50 * GWEI)
    chain.mine()
    nonce = chain.w3.eth.get_transaction_count(sender_address(signer), "pending")

    assert chain.w3.eth.get_transaction(receipt["transactionHash"])["maxPriorityFeePerGas"] == 2 * GWEI
    with pytest.raises(FeeCapExceeded, match=r"above your cap of 20\.000 gwei"):
        capped.transact(raw, signer)
    assert chain.w3.eth.get_transaction_count(sender_address(signer), "pending") == nonce
