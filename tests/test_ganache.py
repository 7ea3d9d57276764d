"""Ganache 7.9 as a node: what GanacheNode promises, and the Ganache quirks chainpass meets.

The integration modules run on Ganache too (conftest's ``GANACHE_MODULES``); these tests
pin what is particular to Ganache, docs/ganache.md explains each. They run only when the
ganache backend is chosen (the default), and leave the session's node as they found it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from web3.exceptions import Web3RPCError
from web3.types import Wei

from chainpass.backend import DevMethodUnsupported
from chainpass.chain import Chain
from chainpass.node import DEV_MNEMONIC, GANACHE_CHAIN_ID, HARDFORK, GanacheNode, free_port, rpc_answers


@pytest.fixture
def ganache(ganache_node: GanacheNode) -> Iterator[Chain]:
    """The session's Ganache, returned to its state after the test."""
    chain = Chain.connect(ganache_node.url)
    snapshot = chain.snapshot()
    yield chain
    chain.revert(snapshot)


def test_ganache_runs_shanghai_on_loopback_with_anvils_dev_accounts(ganache: Chain, ganache_node: GanacheNode) -> None:
    Account.enable_unaudited_hdwallet_features()
    anvils = [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").address for i in range(10)]
    latest = ganache.w3.eth.get_block("latest")

    assert ganache_node.url.startswith("http://127.0.0.1:")
    assert ganache.chain_id == GANACHE_CHAIN_ID
    assert ganache.dev_accounts() == anvils
    assert anvils[0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # Anvil's account 0
    assert all(ganache.w3.eth.get_balance(a) >= 1_000 * 10**18 for a in anvils)
    assert HARDFORK == "shanghai" and "withdrawalsRoot" in latest  # a shanghai header
    assert latest["gasLimit"] == 30_000_000


def test_automine_off_holds_transactions_for_one_block(ganache: Chain) -> None:
    """Ganache has no evm_setAutomine: Chain.set_automine stops and starts its miner instead."""
    a = ganache.dev_accounts()
    block = ganache.w3.eth.block_number

    ganache.set_automine(False)
    try:
        hashes = [ganache.w3.eth.send_transaction({"from": a[i], "to": a[0], "value": Wei(1)}) for i in (1, 2)]
        assert ganache.w3.eth.block_number == block
        ganache.mine()
    finally:
        ganache.set_automine(True)

    receipts = [ganache.w3.eth.wait_for_transaction_receipt(h, timeout=10) for h in hashes]
    assert {r["blockNumber"] for r in receipts} == {block + 1}
    later = ganache.w3.eth.send_transaction({"from": a[3], "to": a[0], "value": Wei(1)})
    assert ganache.w3.eth.wait_for_transaction_receipt(later, timeout=10)["status"] == 1


def test_reverting_to_an_unknown_snapshot_is_refused(ganache: Chain) -> None:
    with pytest.raises(DevMethodUnsupported, match="no snapshot '0x7fff'"):
        ganache.revert("0x7fff")


def test_ganache_replays_a_mined_signed_transaction_with_nonce_zero(ganache: Chain) -> None:
    """A Ganache 7.9.2 bug that matters to anyone who re-broadcasts signed bytes: a raw
    transaction with nonce 0 is executed again when sent again after it was mined (as if
    a zero nonce were a missing one). Other nonces are refused as on any node. Check the
    receipt before re-broadcasting on Ganache."""
    account, payee = Account.create(), Account.create().address
    funding = ganache.w3.eth.send_transaction({"from": ganache.account(9), "to": account.address, "value": Wei(10**18)})
    ganache.w3.eth.wait_for_transaction_receipt(funding)
    base = {"to": payee, "value": 1, "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
    signed = [account.sign_transaction({**base, "nonce": n, "chainId": ganache.chain_id}) for n in (0, 1)]
    for tx in signed:
        ganache.w3.eth.wait_for_transaction_receipt(ganache.w3.eth.send_raw_transaction(tx.raw_transaction))

    again = ganache.w3.eth.send_raw_transaction(signed[0].raw_transaction)  # executed once more
    with pytest.raises(Web3RPCError, match="correct nonce"):
        ganache.w3.eth.send_raw_transaction(signed[1].raw_transaction)

    assert bytes(again) == bytes(signed[0].hash)
    assert ganache.w3.eth.get_balance(payee) == 3
    assert ganache.w3.eth.get_transaction_count(account.address) == 3


def test_chainpass_node_ganache_keeps_its_chain_across_a_restart(tmp_path: Path, ganache_node: GanacheNode) -> None:
    """`chainpass node --ganache` runs Ganache with its database in HOME/ganache-db: a
    transaction is there after a clean stop (Ctrl-C) and a new start on that database."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "chainpass"), "--home", str(tmp_path), "node", "--ganache"]
    command += ["--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    payee = Account.create().address

    with _run_until_it_answers(command, url) as first:  # closes its pipe at the end
        try:
            chain = Chain.connect(url)
            sent = chain.w3.eth.send_transaction({"from": chain.account(0), "to": payee, "value": Wei(12345)})
            chain.w3.eth.wait_for_transaction_receipt(sent)
        finally:
            first.send_signal(signal.SIGINT)
            assert first.wait(20) == 0
    with GanacheNode(port=port, db_dir=tmp_path / "ganache-db"):  # the same database, started again
        chain = Chain.connect(url)
        assert chain.chain_id == GANACHE_CHAIN_ID
        assert chain.w3.eth.get_balance(payee) == 12345
        assert chain.w3.eth.get_transaction_receipt(sent)["status"] == 1


def _run_until_it_answers(command: list[str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not rpc_answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"chainpass node --ganache did not answer on {url}: {err.decode(errors='replace')}")
        time.sleep(0.1)
    return process
