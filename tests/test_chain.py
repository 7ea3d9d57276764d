"""`chainpass.chain`: addresses, connecting, dev accounts, transactions and the dev clock."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from typing import Any, cast

import pytest
from accounts import fund, new_account

from chainpass.artifacts import load_artifact
from chainpass.backend import EmbeddedBackend
from chainpass.chain import ZERO_ADDRESS, Chain, parse_address, sender_address
from chainpass.deployment import DEFAULT_RECOVERY_DELAY, PROXY
from chainpass.errors import ChainIdMismatch, ContractRevert, InsufficientFunds, InvalidInput, NodeUnreachable
from chainpass.node import ANVIL_CHAIN_ID, AnvilNode, free_port

CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def break_checksum(address: str) -> str:
    """``address`` with the case of its first letter flipped: same bytes, wrong checksum."""
    index = next(i for i, ch in enumerate(address) if i > 1 and ch.isalpha())
    return address[:index] + address[index].swapcase() + address[index + 1 :]


# ------------------------------------------------------------------ parse_address


@pytest.mark.parametrize(
    "text", [CHECKSUMMED, CHECKSUMMED.lower(), "0x" + CHECKSUMMED[2:].upper(), f"  {CHECKSUMMED}\n"]
)
def test_parse_address_accepts_valid_forms(text: str) -> None:
    assert parse_address(text) == CHECKSUMMED


def test_parse_address_refuses_a_bad_checksum() -> None:
    broken = break_checksum(CHECKSUMMED)

    with pytest.raises(InvalidInput, match="wrong checksum") as info:
        parse_address(broken, "holder")

    assert str(info.value).startswith(f"holder {broken!r}")


@pytest.mark.parametrize(
    "text",
    [
        CHECKSUMMED[:-1],
        CHECKSUMMED + "a",
        "0x",
        "",
        "hello",
        "0x" + "g" * 40,
        "0x" + "12" * 32,
        CHECKSUMMED[2:],
    ],
    ids=["39-digits", "41-digits", "bare-prefix", "empty", "word", "non-hex", "32-bytes", "no-0x"],
)
def test_parse_address_refuses_malformed_text(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"is not an Ethereum address \(0x followed by 40 hex digits\)\.") as info:
        parse_address(text, "authority")

    assert str(info.value).startswith(f"authority {text!r}")


@pytest.mark.parametrize("value", [None, 42, b"\x12" * 20], ids=["none", "int", "bytes"])
def test_parse_address_refuses_non_text(value: object) -> None:
    with pytest.raises(InvalidInput, match="not an Ethereum address"):
        parse_address(value)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- connect


def test_connect_to_a_closed_port_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(NodeUnreachable) as info:
        Chain.connect(url, timeout=2.0)

    assert url in str(info.value) and "chainpass node" in str(info.value)


class DroppingNode:
    """A JSON-RPC server on 127.0.0.1 that closes the first connection of every request it is
    told to drop without answering (as a node closing a kept-alive connection does), then
    answers ``0x1`` to everything."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.drop: set[str] = set()
        self.seen: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            connection, _ = self.server.accept()
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
                while len(body) < length:
                    body += connection.recv(65536)
                request = json.loads(body)
                self.seen.append(request["method"])
                if request["method"] in self.drop:
                    self.drop.discard(request["method"])
                    continue  # closed without an answer
                answer = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x1"}).encode()
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                   b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))  # fmt: skip


def test_a_connection_closed_without_an_answer_is_tried_again() -> None:
    node = DroppingNode()
    node.drop = {"eth_chainId"}
    chain = Chain.connect(node.url, timeout=2.0)
    node.drop = {"eth_sendTransaction"}

    sent = chain.w3.provider.make_request(cast(Any, "eth_sendTransaction"), [{"from": "0x" + "11" * 20}])

    assert chain.chain_id == 1 and sent["result"] == "0x1"
    assert node.seen == ["eth_chainId", "eth_chainId", "eth_sendTransaction", "eth_sendTransaction"]


@pytest.mark.parametrize("url", ["127.0.0.1:8545", "ws://127.0.0.1:8545", ""])
def test_connect_refuses_a_url_that_is_not_http(url: str) -> None:
    with pytest.raises(InvalidInput, match="http://"):
        Chain.connect(url)


@pytest.mark.anvil
def test_connect_checks_the_expected_chain_id(anvil_node: AnvilNode) -> None:
    with pytest.raises(ChainIdMismatch) as info:
        Chain.connect(anvil_node.url, expected_chain_id=ANVIL_CHAIN_ID + 1)

    chain = Chain.connect(anvil_node.url, expected_chain_id=ANVIL_CHAIN_ID)

    assert str(ANVIL_CHAIN_ID) in str(info.value) and str(ANVIL_CHAIN_ID + 1) in str(info.value)
    assert (chain.chain_id, chain.endpoint, chain.is_embedded) == (ANVIL_CHAIN_ID, anvil_node.url, False)


# ------------------------------------------------------------------------ accounts


def test_account_by_index(chain: Chain) -> None:
    accounts = chain.dev_accounts()

    assert len(accounts) == 10
    assert [chain.account(i) for i in range(len(accounts))] == accounts
    assert chain.account("3") == chain.account(" 3 ") == accounts[3]


def test_account_by_address(chain: Chain) -> None:
    accounts = chain.dev_accounts()

    assert chain.account(accounts[4].lower()) == accounts[4]
    assert chain.account(accounts[4]) == accounts[4]


@pytest.mark.parametrize(("spec", "fragment"), [(10, "out of range"), ("99", "out of range"), ("-1", "not an")])
def test_account_out_of_range_is_refused(chain: Chain, spec: str | int, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        chain.account(spec)


def test_account_that_is_not_unlocked_is_refused(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="not unlocked"):
        chain.account(CHECKSUMMED)


# ------------------------------------------------------------------- transactions


def test_a_refused_deployment_raises_the_named_error(chain: Chain) -> None:
    sender = chain.account(0)
    block = chain.w3.eth.block_number

    with pytest.raises(ContractRevert) as info:
        chain.deploy(load_artifact("IdentityRegistry"), [0], sender)

    assert info.value.error == "IdentityInvalidRecoveryDelay"
    assert str(info.value).startswith("A recovery delay of 0 s is outside 600 to 7776000 s")
    assert chain.w3.eth.block_number == block


def test_deploy_returns_a_receipt_with_the_contract(chain: Chain) -> None:
    artifact = load_artifact("IdentityRegistry")

    receipt = chain.deploy(artifact, [600], chain.account(0))

    address = receipt["contractAddress"]
    assert address is not None and receipt["status"] == 1
    assert artifact.built_this(bytes(chain.w3.eth.get_code(address)))
    contract = chain.contract(artifact, address.lower())
    assert contract.functions.recoveryDelay().call() == 600
    # An implementation locks itself: it governs itself, so nobody else ever does.
    assert contract.functions.governor().call() == address


def test_a_local_account_signs_its_own_transactions(chain: Chain) -> None:
    """A key the node does not hold: chainpass signs the transaction and sends it raw."""
    account = new_account()
    fund(chain, account.address)
    assert account.address not in chain.dev_accounts()
    artifact = load_artifact("IdentityRegistry")

    first = chain.deploy(artifact, [600], account)
    implementation = first["contractAddress"]
    assert implementation is not None
    setup = chain.contract(artifact, implementation).encode_abi("initialize", [account.address, ZERO_ADDRESS])
    second = chain.deploy(load_artifact(PROXY), [implementation, account.address, setup], account)
    address = second["contractAddress"]
    assert address is not None

    assert (first["from"], second["from"]) == (account.address, account.address)
    assert chain.w3.eth.get_transaction_count(account.address) == 2
    assert chain.contract(artifact, address).functions.governor().call() == account.address
    assert sender_address(account) == account.address == sender_address(account.address.lower())


def test_a_local_account_without_eth_is_told_to_fund_or_relay(chain: Chain) -> None:
    account = new_account()
    block = chain.w3.eth.block_number

    with pytest.raises(InsufficientFunds) as info:
        chain.deploy(load_artifact("IdentityRegistry"), [600], account)

    assert account.address in str(info.value) and "relay" in str(info.value)
    assert chain.w3.eth.block_number == block


def test_a_local_account_gets_the_named_refusal(chain: Chain) -> None:
    account = new_account()
    fund(chain, account.address)

    with pytest.raises(ContractRevert) as info:
        chain.deploy(load_artifact("IdentityRegistry"), [0], account)

    assert info.value.error == "IdentityInvalidRecoveryDelay"


# ----------------------------------------------------------------- dev helpers


@pytest.mark.parametrize("seconds", [1, 2, 3_600, 400 * 24 * 3_600])
def test_advance_time_mines_a_block_that_far_ahead(chain: Chain, seconds: int) -> None:
    # The test's snapshot revert may leave the embedded chain's pending block at the wall clock,
    # ahead of the latest block (see the test below): catch up first.
    chain.advance_time(1)
    block, before = chain.w3.eth.block_number, chain.latest_timestamp()

    chain.advance_time(seconds)

    after = chain.latest_timestamp()
    assert chain.w3.eth.block_number == block + 1
    assert before + seconds <= after <= before + seconds + 5
    if chain.is_embedded:
        assert after == before + seconds


def test_advance_time_after_a_revert_while_the_wall_clock_ran_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """On eth-tester, reverting restarts the pending block at wall-clock time, maybe ahead of the chain."""
    chain = Chain.embedded()
    snapshot = chain.snapshot()
    before = chain.latest_timestamp()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 600)
    chain.revert(snapshot)
    monkeypatch.undo()

    chain.advance_time(5)

    assert chain.latest_timestamp() >= before + 5


def test_the_embedded_chain_finds_transactions_by_hash_as_eth_tester_did() -> None:
    """``Chain.embedded()``'s lookup by hash (py-evm's index, for receipts and logs) answers
    as eth-tester's walk from the head does, after a revert too, when the index may still
    name a block that is no longer canonical."""
    from web3.exceptions import TransactionNotFound

    from chainpass.backend import _find_transaction, _walk_to_transaction

    chain = Chain.embedded()
    py_evm = cast(EmbeddedBackend, chain.backend).tester.backend.chain
    payer, payee = chain.account(0), chain.account(1)

    def pay(value: int) -> bytes:
        return bytes(chain.w3.eth.send_transaction({"from": payer, "to": payee, "value": value}))

    kept = [pay(value) for value in (1, 2, 3)]
    snapshot = chain.snapshot()
    dropped = [pay(value) for value in (4, 5)]
    chain.revert(snapshot)
    kept += [pay(value) for value in (6, 7, 8)]  # the dropped ones' block numbers, other transactions

    for tx_hash in kept:
        found, walked = _find_transaction(py_evm, tx_hash), _walk_to_transaction(py_evm, tx_hash)
        assert (found[0].hash, found[1].hash, found[2]) == (walked[0].hash, walked[1].hash, walked[2])
        assert found[1].hash == tx_hash
    for tx_hash in dropped:
        with pytest.raises(TransactionNotFound):
            chain.w3.eth.get_transaction_receipt(tx_hash)
    assert (
        chain.w3.eth.get_transaction_receipt(kept[3])["blockNumber"]
        == chain.w3.eth.get_transaction_receipt(kept[0])["blockNumber"] + 3
    )


def test_snapshot_and_revert_restore_state_and_clock(chain: Chain) -> None:
    sender = chain.account(0)
    snapshot = chain.snapshot()
    block, timestamp = chain.w3.eth.block_number, chain.latest_timestamp()
    receipt = chain.deploy(load_artifact("IdentityRegistry"), [DEFAULT_RECOVERY_DELAY], sender)
    chain.advance_time(10_000)

    chain.revert(snapshot)

    address = receipt["contractAddress"]
    assert address is not None
    assert bytes(chain.w3.eth.get_code(address)) == b""
    assert (chain.w3.eth.block_number, chain.latest_timestamp()) == (block, timestamp)
