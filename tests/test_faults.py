"""Faults on Anvil: each test runs an Anvil node of its own, to kill, restart, pause or reorganise.

Covered elsewhere: a node that does not answer at the start (tests/test_chain.py
``test_connect_to_a_closed_port_is_a_clear_error`` and tests/test_sender.py
``test_no_node_at_start_is_a_clear_error_and_nothing_is_signed``); a node on another chain id
(tests/test_chain.py ``test_connect_checks_the_expected_chain_id``) and a deployment record
for another chain id (tests/test_deployment.py, the record renamed to another chain's id).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from eth_utils import keccak, to_checksum_address
from web3.exceptions import TransactionNotFound
from web3.types import TxParams, Wei

from chainpass.chain import Chain
from chainpass.deployment import DeploymentStore, deploy, genesis_hash, load_deployment
from chainpass.errors import NodeUnreachable
from chainpass.fees import FeeCapExceeded, FeePolicy, gwei_text
from chainpass.node import AnvilNode, free_port
from chainpass.sender import BulkSender, Sent

pytestmark = pytest.mark.anvil

GWEI = 10**9


def rpc(node: AnvilNode, method: str, *params: Any) -> Any:
    reply = requests.post(
        node.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10
    ).json()
    assert "error" not in reply, reply
    return reply["result"]


def recipient(n: int) -> ChecksumAddress:
    """A fresh address per item: its balance says how many times the item was sent."""
    return to_checksum_address(keccak(text=f"chainpass fault test recipient {n}")[12:])


def payments(count: int) -> list[TxParams]:
    """Item n pays n + 1 wei to its own recipient."""
    return [TxParams(to=recipient(n), value=Wei(n + 1), gas=21_000) for n in range(count)]


def assert_each_paid_once(chain: Chain, operator: LocalAccount, count: int) -> None:
    balances = [chain.w3.eth.get_balance(recipient(n)) for n in range(count)]
    assert balances == [n + 1 for n in range(count)]
    assert chain.w3.eth.get_transaction_count(operator.address) == count  # nothing else was mined


def assert_receipts_stand(chain: Chain, sent: list[Sent]) -> None:
    """Every reported receipt is the chain's receipt now (same block)."""
    for s in sent:
        assert s.ok and s.receipt is not None, s
        now = chain.w3.eth.get_transaction_receipt(HexStr(s.tx_hash))
        assert bytes(now["blockHash"]) == bytes(s.receipt["blockHash"])


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilNode]:
    anvil = AnvilNode(port=free_port(), state_file=tmp_path / "anvil-state.json").start()
    yield anvil
    anvil.kill()


def funded(node: AnvilNode) -> tuple[Chain, LocalAccount]:
    chain = Chain.connect(node.url)
    operator: LocalAccount = Account.create()
    tx = chain.w3.eth.send_transaction({"from": chain.dev_accounts()[0], "to": operator.address, "value": Wei(10**20)})
    chain.w3.eth.wait_for_transaction_receipt(tx)
    return chain, operator


# ---------------------------------------------------------------------- a killed node


def test_a_node_killed_mid_bulk_and_restarted_from_its_state_file(node: AnvilNode) -> None:
    """Half-way, the node is SIGKILLed: what it mined in its last second is lost with it. The
    sender gives up with a clear error; the node restarts from its state file, and the same
    work run again with the journal ends with every item paid exactly once."""
    chain, operator = funded(node)
    node.restart()  # a clean stop writes the state: the funding survives whatever comes next
    count = 300
    journal: dict[int, list[str]] = {}
    killed = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 100 and not killed.is_set():
            killed.set()
            node.kill()

    first = BulkSender(
        chain,
        operator,
        window=32,
        retry_for=0.5,
        on_signed=lambda i, h, _n: journal.setdefault(i, []).append(h),
        on_progress=progress,
    )
    with pytest.raises(NodeUnreachable, match="journal") as info:
        first.send(payments(count))
    assert node.url in str(info.value)

    node.start()
    survived = chain.w3.eth.get_transaction_count(operator.address)
    assert 0 <= survived < len(journal) < count  # some work was lost with the node, some never sent
    again: list[int] = []
    second = BulkSender(chain, operator, on_signed=lambda i, _h, _n: again.append(i))

    sent = second.send(payments(count), resume=journal)

    assert_receipts_stand(chain, sent)
    assert_each_paid_once(chain, operator, count)
    assert len(again) == count - survived  # exactly the items the restarted node did not hold


def test_a_node_that_comes_back_while_the_sender_retries(node: AnvilNode) -> None:
    """The node dies and is back within the sender's patience, from an older state: the
    sender carries on, and what the node lost is broadcast again (same bytes)."""
    chain, operator = funded(node)
    node.restart()
    count = 200
    signed: list[tuple[int, str, int]] = []
    bounced = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 80 and not bounced.is_set():
            bounced.set()
            node.kill()
            threading.Timer(0.3, node.start).start()

    sender = BulkSender(
        chain,
        operator,
        window=32,
        retry_for=20,
        rebroadcast_after=0.2,
        on_signed=lambda *a: signed.append(a),
        on_progress=progress,
    )

    sent = sender.send(payments(count))

    assert bounced.is_set()
    assert_receipts_stand(chain, sent)
    assert_each_paid_once(chain, operator, count)
    assert len(signed) == count  # recovered by broadcasting the same transactions, none re-signed


# ------------------------------------------------------------------ the pool drops one


def test_a_transaction_dropped_from_the_pool_is_broadcast_again(node: AnvilNode) -> None:
    chain, operator = funded(node)
    rpc(node, "evm_setAutomine", False)
    signed: list[tuple[int, str, int]] = []
    dropped: list[str] = []

    def saboteur() -> None:
        while int(rpc(node, "eth_getTransactionCount", operator.address, "pending"), 16) < 5:
            pass
        victim = next(h for i, h, _ in signed if i == 2)
        rpc(node, "anvil_dropTransaction", victim)
        dropped.append(victim)
        rpc(node, "evm_mine")  # nonces 0 and 1 mined; 3 and 4 wait for the missing 2
        rpc(node, "evm_setAutomine", True)

    thread = threading.Thread(target=saboteur, daemon=True)
    thread.start()
    sent = BulkSender(chain, operator, rebroadcast_after=0.2, on_signed=lambda *a: signed.append(a)).send(payments(5))
    thread.join()

    assert dropped and sent[2].tx_hash == dropped[0]  # the same transaction, broadcast again
    assert len(signed) == 5
    assert_receipts_stand(chain, sent)
    assert_each_paid_once(chain, operator, 5)
    assert [s.receipt["blockNumber"] for s in sent[:2]] < [s.receipt["blockNumber"] for s in sent[2:3]]  # type: ignore[index]


# --------------------------------------------------------------------------- fees


def stall_below(node: AnvilNode, operator: LocalAccount, base_fee: int, then_automine: bool = True) -> None:
    """Once the operator's transaction is in the pool, the base fee jumps above its max fee:
    the block mined then leaves it out, and it is stuck."""
    while int(rpc(node, "eth_getTransactionCount", operator.address, "pending"), 16) < 1:
        pass
    rpc(node, "anvil_setNextBlockBaseFeePerGas", hex(base_fee))
    rpc(node, "evm_mine")
    if then_automine:
        rpc(node, "evm_setAutomine", True)


def test_a_stuck_low_fee_transaction_is_replaced_with_higher_fees(node: AnvilNode) -> None:
    chain, operator = funded(node)
    rpc(node, "evm_setAutomine", False)
    signed: list[tuple[int, str, int]] = []
    policy = FeePolicy(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI, cap_per_gas=100 * GWEI)
    sender = BulkSender(
        chain, operator, fees=policy, rebroadcast_after=0.1, replace_after=0.5, on_signed=lambda *a: signed.append(a)
    )
    thread = threading.Thread(target=stall_below, args=(node, operator, 20 * GWEI), daemon=True)
    thread.start()

    sent = sender.send(payments(1))
    thread.join()

    assert [(i, n) for i, _, n in signed] == [(0, 0), (0, 0)]  # one replacement, same nonce
    first, second = signed[0][1], signed[1][1]
    assert sent[0].ok and sent[0].tx_hash == second
    with pytest.raises(TransactionNotFound):
        chain.w3.eth.get_transaction_receipt(HexStr(first))
    replacement = chain.w3.eth.get_transaction(HexStr(second))
    assert replacement["maxFeePerGas"] > 2 * 20 * GWEI * 0.875  # followed the base fee up
    assert replacement["maxPriorityFeePerGas"] >= GWEI * 112 // 100
    assert_each_paid_once(chain, operator, 1)


def test_a_stuck_transaction_is_not_replaced_above_the_cap(node: AnvilNode) -> None:
    chain, operator = funded(node)
    rpc(node, "evm_setAutomine", False)
    signed: list[tuple[int, str, int]] = []
    policy = FeePolicy(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI, cap_per_gas=2 * GWEI)
    sender = BulkSender(
        chain,
        operator,
        fees=policy,
        rebroadcast_after=0.1,
        replace_after=0.3,
        receipt_timeout=1.5,
        on_signed=lambda *a: signed.append(a),
    )
    thread = threading.Thread(target=stall_below, args=(node, operator, 20 * GWEI), daemon=True)
    thread.start()

    sent = sender.send(payments(1))
    thread.join()

    assert len(signed) == 1  # no replacement: it would pass the cap
    assert sent[0].receipt is None and sent[0].error is not None and "not mined" in str(sent[0].error)
    assert chain.w3.eth.get_transaction_count(operator.address) == 0


def test_a_base_fee_above_the_cap_is_refused_before_anything_is_sent(node: AnvilNode) -> None:
    chain, operator = funded(node)
    rpc(node, "anvil_setNextBlockBaseFeePerGas", hex(80 * GWEI))
    rpc(node, "evm_mine")
    signed: list[object] = []
    sender = BulkSender(chain, operator, fees=FeePolicy(cap_per_gas=100 * GWEI), on_signed=lambda *a: signed.append(a))

    next_base_fee = int(chain.w3.eth.get_block("pending")["baseFeePerGas"])  # 70 gwei, after an empty block
    with pytest.raises(FeeCapExceeded, match=re.escape("above your cap of 100.000 gwei")) as info:
        sender.send(payments(3))

    assert f"the base fee of {gwei_text(next_base_fee)}" in str(info.value)
    assert signed == [] and chain.w3.eth.get_transaction_count(operator.address, "pending") == 0


# ---------------------------------------------------------------------------- reorg


def test_a_reorg_during_bulk_work_loses_nothing_and_records_nothing_twice(node: AnvilNode) -> None:
    """Blocks keep coming (a miner thread); a third of the way in, the last 5 blocks are
    replaced by empty ones, taking mined transactions with them. With confirmations, the
    sender checks every receipt at depth and sends the lost ones again (same bytes)."""
    chain, operator = funded(node)
    count = 60
    stop = threading.Event()
    reorged: list[int] = []
    signed: list[tuple[int, str, int]] = []

    def miner() -> None:
        while not stop.wait(0.02):
            rpc(node, "evm_mine")

    def progress(done: int, total: int) -> None:
        if done >= 20 and not reorged:
            reorged.append(int(rpc(node, "eth_getTransactionCount", operator.address, "latest"), 16))
            rpc(node, "anvil_reorg", 5, [])
            reorged.append(int(rpc(node, "eth_getTransactionCount", operator.address, "latest"), 16))

    thread = threading.Thread(target=miner)
    thread.start()
    try:
        sender = BulkSender(
            chain,
            operator,
            window=8,
            confirmations=3,
            rebroadcast_after=0.2,
            on_signed=lambda *a: signed.append(a),
            on_progress=progress,
        )
        sent = sender.send(payments(count))
    finally:
        stop.set()
        thread.join()

    assert reorged[1] < reorged[0]  # the reorganisation took mined transactions away
    assert len(signed) == count  # nothing re-signed: the lost ones were broadcast again as they were
    assert_receipts_stand(chain, sent)
    assert_each_paid_once(chain, operator, count)


# ------------------------------------------------------------------ a damaged state file


def test_a_state_file_torn_by_a_kill_falls_back_to_its_last_good_copy(node: AnvilNode) -> None:
    """Anvil rewrites its state file in place: a kill during that write leaves it torn, and
    Anvil refuses to start from it. The node starts from the copy taken at its last start."""
    assert node.state_file is not None
    chain, operator = funded(node)
    node.restart()  # a clean stop writes the state; the start copies it aside
    kept = chain.w3.eth.get_balance(operator.address)
    chain.w3.eth.send_transaction({"from": chain.dev_accounts()[0], "to": operator.address, "value": Wei(1)})
    node.kill()
    node.state_file.write_bytes(node.state_file.read_bytes()[:100])  # torn mid-write

    node.start()

    assert node.restored_state
    assert Chain.connect(node.url).w3.eth.get_balance(operator.address) == kept


def test_a_torn_state_file_without_a_copy_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"block": {"number": "0x')
    node = AnvilNode(port=free_port(), state_file=state)

    with pytest.raises(NodeUnreachable, match=r"is damaged .* move it aside to start an empty chain"):
        node.start()
    assert node.process is None


# ------------------------------------------------------------- a restart keeps the chain's name


def test_a_node_restarted_from_its_state_file_keeps_its_deployment_record(node: AnvilNode, tmp_path: Path) -> None:
    """Each Anvil start from a state file makes a new block 0 (its own second) and keeps the
    old ones, answering one of them at random: the record is keyed by block 1's parent, the
    block 0 the chain was built on, so every restart finds it."""
    chain = Chain.connect(node.url)
    store = DeploymentStore(tmp_path / "deployments")
    deployment, _ = deploy(chain, chain.dev_accounts()[0], store)
    names = {genesis_hash(chain)}
    for _ in range(5):
        time.sleep(1.05)  # a start in a later second: another block 0
        node.restart()
        chain = Chain.connect(node.url)
        names.add(genesis_hash(chain))
        assert load_deployment(chain, store) == deployment

    assert names == {"0x" + bytes(chain.w3.eth.get_block(1)["parentHash"]).hex()}
    assert [p.name for p in store.directory.iterdir()] == [store.path_for(chain).name]
