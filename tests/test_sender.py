"""BulkSender on both backends: order, nonces, decoded refusals, threads, fees, journals.

The faults (a killed node, dropped and stuck transactions, a reorganisation) are in
tests/test_faults.py, on Anvil nodes of their own.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from accounts import YEAR, World, credential_for, fund, new_account
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils import to_checksum_address
from web3.types import TxParams, Wei

from chainpass.backend import NodeBackend
from chainpass.chain import Chain
from chainpass.enums import Level
from chainpass.errors import ContractRevert, InsufficientFunds, InvalidInput, NodeUnreachable, TransactionFailed
from chainpass.fees import GWEI, FeeCapExceeded, FeePolicy
from chainpass.node import free_port
from chainpass.sender import BulkSender, Sent

SINK = to_checksum_address("0x000000000000000000000000000000000000dead")


@pytest.fixture
def operator(chain: Chain) -> LocalAccount:
    """A fresh local key with 100 ETH: the sender signs with it, nobody else uses it."""
    account = new_account()
    fund(chain, account.address, 100 * 10**18)
    return account


def transfers(count: int, to: str = SINK, *, gas: int | None = 21_000) -> list[TxParams]:
    """``count`` transfers of 1, 2, ... wei (each recognisable by its value)."""
    base: dict[str, Any] = {"to": to}
    if gas is not None:
        base["gas"] = gas
    return [TxParams(**base, value=n + 1) for n in range(count)]  # type: ignore[typeddict-item]


def assert_contiguous(chain: Chain, sent: list[Sent], first: int) -> None:
    nonces = sorted(s.nonce for s in sent)
    assert nonces == list(range(first, first + len(sent)))
    assert len({s.tx_hash for s in sent}) == len(sent)
    assert all(s.receipt is not None and s.receipt["status"] == 1 for s in sent)


def verified(world: World, account: LocalAccount) -> None:
    """``account`` verified by the bureau, so it may call the registry (cancelSignatures)."""
    expires = world.chain.latest_timestamp() + YEAR
    world.registry.verify(credential_for(account.address), Level.HIGH, expires, sender=world.roles.bureau)


# ---------------------------------------------------------------------------- basics


def test_transfers_are_mined_in_input_order_with_contiguous_nonces(chain: Chain, operator: LocalAccount) -> None:
    signed: list[tuple[int, str, int]] = []
    progress: list[tuple[int, int]] = []
    sender = BulkSender(
        chain, operator, window=8, on_signed=lambda *a: signed.append(a), on_progress=lambda *a: progress.append(a)
    )
    before = chain.w3.eth.get_balance(SINK)

    sent = sender.send(transfers(20))

    assert [s.index for s in sent] == list(range(20))
    assert [s.nonce for s in sent] == list(range(20))
    assert_contiguous(chain, sent, 0)
    assert sorted((i, h, n) for i, h, n in signed) == [(s.index, s.tx_hash, s.nonce) for s in sent]
    assert chain.w3.eth.get_balance(SINK) - before == sum(range(1, 21))
    assert chain.w3.eth.get_transaction_count(operator.address) == 20
    assert progress[-1] == (20, 20)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_each_transaction_carries_the_value_it_was_given(chain: Chain, operator: LocalAccount) -> None:
    sent = BulkSender(chain, operator).send(transfers(5))

    values = [chain.w3.eth.get_transaction(HexStr(s.tx_hash))["value"] for s in sent]

    assert values == [1, 2, 3, 4, 5]


def test_signatures_match_eth_account(chain: Chain, operator: LocalAccount) -> None:
    """The fast signer makes the very bytes eth-account would (same hash, RFC 6979)."""
    sent = BulkSender(chain, operator).send(transfers(1, gas=30_000))
    tx = chain.w3.eth.get_transaction(HexStr(sent[0].tx_hash))

    expected = Account.sign_transaction(
        {
            "type": 2,
            "chainId": chain.chain_id,
            "nonce": 0,
            "to": SINK,
            "value": 1,
            "gas": 30_000,
            "maxFeePerGas": tx["maxFeePerGas"],
            "maxPriorityFeePerGas": tx["maxPriorityFeePerGas"],
            "data": b"",
            "accessList": [],
        },
        operator.key,
    )

    assert "0x" + bytes(expected.hash).hex() == sent[0].tx_hash


def test_gas_is_estimated_for_contract_calls(world: World, operator: LocalAccount) -> None:
    """A call without gas is estimated (with a margin) and mined; the empty input is a no-op."""
    chain, registry = world.chain, world.registry
    verified(world, operator)
    # The first bump writes a fresh slot: made beforehand, so that both estimates below hold.
    chain.transact(registry.contract.functions.cancelSignatures(), operator)
    calls = [registry.contract.functions.cancelSignatures() for _ in range(2)]
    sender = BulkSender(chain, operator)

    sent = sender.send(calls)

    assert all(s.ok for s in sent) and sender.send([]) == [], sent
    assert registry.contract.functions.nonceOf(operator.address).call() == 3
    for s in sent:
        assert s.receipt is not None
        tx = chain.w3.eth.get_transaction(HexStr(s.tx_hash))
        assert s.receipt["gasUsed"] < tx["gas"] <= s.receipt["gasUsed"] * 2


def test_a_refused_call_is_reported_decoded_and_the_others_go_on(world: World, operator: LocalAccount) -> None:
    """The operator is not the governor: its appointments are refused at estimation (nothing
    signed for them), the harmless calls around them are mined."""
    chain, registry, roles = world.chain, world.registry, world.roles
    functions = registry.contract.functions
    before = functions.authorityOf(roles.stranger).call()
    verified(world, operator)
    calls = [
        functions.cancelSignatures(),
        functions.appointAuthority(roles.stranger, int(Level.LOW)),
        functions.cancelSignatures(),
    ]

    sent = BulkSender(chain, operator).send(calls)

    assert [s.ok for s in sent] == [True, False, True]
    assert isinstance(sent[1].error, ContractRevert) and sent[1].error.error == "IdentityNotGovernor"
    assert (sent[1].tx_hash, sent[1].nonce, sent[1].receipt) == ("", -1, None)
    assert [sent[0].nonce, sent[2].nonce] == [0, 1]
    assert functions.authorityOf(roles.stranger).call() == before
    assert functions.nonceOf(operator.address).call() == 2


def test_a_transaction_that_fails_when_mined_is_decoded_too(world: World, operator: LocalAccount) -> None:
    """With an explicit gas limit nothing is estimated: the refusal happens on chain, and the
    mined receipt (status 0) is explained by replaying the call."""
    chain, registry, roles = world.chain, world.registry, world.roles
    data = registry.contract.functions.appointAuthority(roles.stranger, int(Level.LOW))._encode_transaction_data()
    calls = [
        TxParams(to=registry.address, data=data, gas=100_000),
        TxParams(to=SINK, value=Wei(7), gas=21_000),
    ]

    sent = BulkSender(chain, operator).send(calls)

    assert sent[0].receipt is not None and sent[0].receipt["status"] == 0
    assert isinstance(sent[0].error, ContractRevert) and sent[0].error.error == "IdentityNotGovernor"
    assert sent[1].ok and [s.nonce for s in sent] == [0, 1]


def test_items_that_are_neither_calls_nor_fields_are_refused(chain: Chain, operator: LocalAccount) -> None:
    with pytest.raises(InvalidInput, match="Item 1"):
        BulkSender(chain, operator).send([transfers(1)[0], "0x1234"])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="window"):
        BulkSender(chain, operator, window=0)
    with pytest.raises(InvalidInput, match="batch"):
        BulkSender(chain, operator, batch=0)


@pytest.mark.parametrize(("window", "batch"), [(1, 100), (7, 3), (400, 100)])
def test_any_window_and_batch_send_every_item_once_in_nonce_order(
    chain: Chain, operator: LocalAccount, window: int, batch: int
) -> None:
    """Signed transactions go out ``batch`` to a request, the window topped up a batch at a
    time; windows smaller than a batch still move (one under two batches: half a window)."""
    sent = BulkSender(chain, operator, window=window, batch=batch).send(transfers(23))

    assert all(s.ok for s in sent) and [s.nonce for s in sent] == list(range(23))
    assert len({s.tx_hash for s in sent}) == 23


def test_a_key_without_eth_is_told_to_fund_it(chain: Chain) -> None:
    """The node's refusal for want of funds (each backend words it its own way) is one clear error."""
    broke = new_account()

    with pytest.raises(InsufficientFunds, match="cannot pay for gas"):
        BulkSender(chain, broke).send(transfers(1))

    assert chain.w3.eth.get_transaction_count(broke.address, "pending") == 0


# --------------------------------------------------------------------------- threads


def test_four_threads_share_one_key(chain: Chain, operator: LocalAccount) -> None:
    """4 threads x 50 transfers through one BulkSender: 200 of 200 mined, nonces 0-199, no dupes."""
    sender = BulkSender(chain, operator, window=16)
    results: dict[int, list[Sent]] = {}

    def work(thread: int) -> None:
        results[thread] = sender.send(transfers(50))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sent = [s for n in range(4) for s in results[n]]
    assert len(sent) == 200 and all(s.ok for s in sent)
    assert_contiguous(chain, sent, 0)
    assert chain.w3.eth.get_transaction_count(operator.address) == 200


def test_a_nonce_used_behind_the_senders_back_is_resynced(chain: Chain, operator: LocalAccount) -> None:
    """Another program spends the key's next nonces: the sender's counter is stale, the node
    says so, and the sender takes fresh nonces from the node."""
    sender = BulkSender(chain, operator)
    sender.send(transfers(2))
    for nonce in (2, 3):
        chain.w3.eth.send_raw_transaction(
            operator.sign_transaction(
                {
                    "type": 2,
                    "chainId": chain.chain_id,
                    "nonce": nonce,
                    "to": SINK,
                    "value": 1,
                    "gas": 21_000,
                    "maxFeePerGas": 100 * GWEI,
                    "maxPriorityFeePerGas": GWEI,
                }
            ).raw_transaction
        )

    sent = sender.send(transfers(3))

    assert all(s.ok for s in sent) and sorted(s.nonce for s in sent) == [4, 5, 6]
    assert chain.w3.eth.get_transaction_count(operator.address) == 7


# ------------------------------------------------------------------------------ fees


def test_fees_default_to_twice_the_base_fee_plus_the_tip() -> None:
    assert FeePolicy().fees(10 * GWEI, GWEI) == (21 * GWEI, GWEI)
    assert FeePolicy(max_priority_fee_per_gas=2 * GWEI).fees(10 * GWEI, GWEI) == (22 * GWEI, 2 * GWEI)
    assert FeePolicy(max_fee_per_gas=15 * GWEI).fees(10 * GWEI, GWEI) == (15 * GWEI, GWEI)
    assert FeePolicy(cap_per_gas=30 * GWEI).fees(10 * GWEI, GWEI) == (21 * GWEI, GWEI)


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        (FeePolicy(cap_per_gas=20 * GWEI), "above your cap of 20.000 gwei"),
        (FeePolicy(max_fee_per_gas=9 * GWEI), "below the base fee"),
    ],
    ids=["over-cap", "under-base-fee"],
)
def test_fees_the_chain_cannot_take_are_refused(policy: FeePolicy, fragment: str) -> None:
    with pytest.raises(FeeCapExceeded, match=fragment):
        policy.fees(10 * GWEI, GWEI)


def test_a_replacement_bumps_both_fees_and_respects_the_cap() -> None:
    policy = FeePolicy(bump_percent=12, cap_per_gas=30 * GWEI)

    assert policy.bumped(20 * GWEI, GWEI, 5 * GWEI, GWEI) == (int(22.4 * GWEI), int(1.12 * GWEI))
    # The base fee ran away: the replacement follows it, up to the cap.
    assert policy.bumped(20 * GWEI, GWEI, 14 * GWEI, GWEI) == (29 * GWEI + 120_000_000, int(1.12 * GWEI))
    assert policy.bumped(28 * GWEI, GWEI, 20 * GWEI, GWEI) is None  # 10% more would pass the cap
    with pytest.raises(InvalidInput, match="at least 10"):
        FeePolicy(bump_percent=5)


def test_a_cap_below_the_chains_fee_sends_nothing(chain: Chain, operator: LocalAccount) -> None:
    base = int(chain.w3.eth.get_block("latest")["baseFeePerGas"])
    signed: list[object] = []
    sender = BulkSender(chain, operator, fees=FeePolicy(cap_per_gas=base), on_signed=lambda *a: signed.append(a))

    with pytest.raises(FeeCapExceeded, match="nothing was sent"):
        sender.send(transfers(3))

    assert signed == [] and chain.w3.eth.get_transaction_count(operator.address, "pending") == 0


def test_the_operators_fees_are_the_ones_paid(chain: Chain, operator: LocalAccount) -> None:
    policy = FeePolicy(max_fee_per_gas=50 * GWEI, max_priority_fee_per_gas=2 * GWEI, cap_per_gas=60 * GWEI)

    sent = BulkSender(chain, operator, fees=policy).send(transfers(2))

    for s in sent:
        tx = chain.w3.eth.get_transaction(HexStr(s.tx_hash))
        assert (tx["maxFeePerGas"], tx["maxPriorityFeePerGas"]) == (50 * GWEI, 2 * GWEI)


# ---------------------------------------------------------------------------- journal


def test_a_journaled_run_is_not_sent_again(chain: Chain, operator: LocalAccount) -> None:
    """Resuming with the journal of a finished run waits for its transactions, sends nothing new."""
    journal: dict[int, list[str]] = {}
    BulkSender(chain, operator, on_signed=lambda i, h, _n: journal.setdefault(i, []).append(h)).send(transfers(4))
    again: list[object] = []

    sent = BulkSender(chain, operator, on_signed=lambda *a: again.append(a)).send(transfers(5), resume=journal)

    assert again == [(4, sent[4].tx_hash, 4)]
    assert [s.tx_hash for s in sent[:4]] == [journal[i][0] for i in range(4)]
    assert all(s.ok for s in sent) and chain.w3.eth.get_transaction_count(operator.address) == 5


# ---------------------------------------------------------------------------- the node


def test_no_node_at_start_is_a_clear_error_and_nothing_is_signed(operator: LocalAccount) -> None:
    """(Chain.connect's own refusal is in tests/test_chain.py; this is a node that went away
    before the bulk work began.)"""
    url = f"http://127.0.0.1:{free_port()}"
    gone = Chain(NodeBackend(url))
    signed: list[object] = []

    with pytest.raises(NodeUnreachable, match="nothing was sent") as info:
        BulkSender(gone, Account.create(), on_signed=lambda *a: signed.append(a)).send(transfers(2))

    assert gone.endpoint in str(info.value) and signed == []
    assert not isinstance(info.value, TransactionFailed)


def test_receipts_are_shaped_as_web3_shapes_them(world: World, operator: LocalAccount) -> None:
    """The sender shapes JSON-RPC receipts itself (fast); they equal web3's own, logs included,
    so event decoding (process_receipt) works on them."""
    chain, registry = world.chain, world.registry
    verified(world, operator)

    sent = BulkSender(chain, operator).send([registry.contract.functions.cancelSignatures()])

    receipt = sent[0].receipt
    assert receipt is not None and receipt == chain.w3.eth.get_transaction_receipt(HexStr(sent[0].tx_hash))
    (event,) = registry.contract.events.SignaturesCancelled().process_receipt(receipt)
    assert event["args"]["holder"] == operator.address


def test_a_fee_cap_refusal_shows_numbers_that_add_up() -> None:
    """The fee offered is twice the base fee plus the tip: the refusal says so, with the tip
    that went into it (not the tip cut to the cap)."""
    with pytest.raises(FeeCapExceeded) as computed:
        FeePolicy(cap_per_gas=GWEI, max_priority_fee_per_gas=3 * GWEI).fees(10 * GWEI, GWEI)
    with pytest.raises(FeeCapExceeded) as given:
        FeePolicy(cap_per_gas=5 * GWEI, max_fee_per_gas=8 * GWEI).fees(GWEI, GWEI)

    numbers = [float(n) for n in re.findall(r"([\d.]+) gwei", str(computed.value))]
    assert numbers == [23.0, 10.0, 3.0, 1.0], str(computed.value)
    assert numbers[0] == 2 * numbers[1] + numbers[2]  # up to 23 = 2 x 10 + 3, above the cap of 1
    assert str(given.value).startswith("The maximum fee you set, 8.000 gwei per gas, is above your cap of 5.000 gwei")
