"""One object for the chain we talk to: the embedded EVM, a local node, or any JSON-RPC URL.

``Chain.embedded()`` runs an in-process EVM (eth-tester + py-evm): nothing to install,
instant, gone when the process ends. ``Chain.connect(url)`` talks to a node (Anvil from
``chainpass node``, Ganache, or any EVM endpoint). Everything else in chainpass takes a
``Chain``; there is no global connection.
"""

from __future__ import annotations

import json
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, cast

import requests
from eth.estimators.gas import binary_gas_search_intrinsic_tolerance
from eth.exceptions import BlockNotFound as EthBlockNotFound
from eth.exceptions import TransactionNotFound as EthTransactionNotFound
from eth.vm.spoof import SpoofTransaction
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester.backends.pyevm import main as eth_tester_pyevm
from eth_typing import ChecksumAddress
from eth_utils import is_address, to_checksum_address
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import TransactionNotFound
from web3.providers.rpc.utils import REQUEST_RETRY_ALLOWLIST, ExceptionRetryConfiguration
from web3.types import TxParams, TxReceipt

from chainpass.artifacts import Artifact
from chainpass.errors import (
    ChainIdMismatch,
    ChainpassError,
    ConfirmationTimeout,
    ContractRevert,
    InsufficientFunds,
    InvalidInput,
    NodeUnreachable,
    TransactionFailed,
)
from chainpass.fees import GWEI, FeePolicy
from chainpass.reverts import decode_revert, revert_data_from_exception


class DevMethodUnsupported(ChainpassError):
    """The node refused a dev method (snapshots, time travel, mining on demand)."""


#: Seconds to wait for a transaction's receipt before giving up.
RECEIPT_TIMEOUT = 120
#: Requests sent again when the connection fails before an answer: a node may close a
#: kept-alive connection just as it is reused (Ganache does, after a pause), having read
#: nothing. Only connection failures: a request that timed out may have been carried out.
#: Node-signed sends (eth_sendTransaction) are among them: keys a node holds are for local
#: dev nodes; keystore transactions go as eth_sendRawTransaction, which is safe to resend.
_RETRY = ExceptionRetryConfiguration(
    errors=(requests.exceptions.ConnectionError,),
    retries=3,
    backoff_factor=0.05,
    method_allowlist=[*REQUEST_RETRY_ALLOWLIST, "eth_sendTransaction", "anvil", "miner"],
)
#: Seconds between looks at the chain head while waiting for confirmations.
CONFIRMATION_POLL = 0.5
#: How a refusal for want of ETH reads: nodes say "insufficient funds", the embedded EVM
#: (py-evm) "cannot afford txn gas".
NO_FUNDS_TEXTS = ("insufficient funds", "cannot afford")

#: Who sends a transaction: an account the node holds unlocked (its address), or a
#: local account (from a keystore) that signs here.
Sender = str | LocalAccount


def sender_address(sender: Sender) -> ChecksumAddress:
    return sender.address if isinstance(sender, LocalAccount) else to_checksum_address(sender)


def _quick_gas_estimate(state: Any, transaction: Any) -> int:
    """The embedded EVM's gas estimate, in two runs where py-evm's own binary search takes
    some 25 (most of the cost of a transaction on the embedded EVM): one at the block gas
    limit to learn the gas used, one at that plus a quarter and 5,000 to check it suffices
    (calls inside get 63/64 of what is left). If it does not, py-evm's search decides."""

    def run(gas: int) -> int | None:
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(SpoofTransaction(transaction, gas=gas, gas_price=0))
            if computation.is_error:
                if gas == state.gas_limit:
                    raise computation.error  # the revert, as py-evm's estimator raises it
                return None
            return int(gas - computation.get_gas_remaining())
        finally:
            state.revert(snapshot)

    used = run(state.gas_limit)
    assert used is not None
    candidate = int(min(state.gas_limit, used + used // 4 + 5_000))
    if run(candidate) is not None:
        return candidate
    return int(binary_gas_search_intrinsic_tolerance(state, transaction))


def _find_transaction(chain: Any, transaction_hash: bytes) -> tuple[Any, Any, int]:
    """eth-tester's lookup of a transaction by hash (block, transaction, index), through
    py-evm's hash index. eth-tester walks back from the head block by block, decoding each,
    so every receipt cost time in proportion to the chain's length, and ``eth_getLogs`` (a
    receipt per transaction in range) grew with its square: most of ``chainpass demo``'s
    time. The pending block is looked at first and an index entry is checked against the
    canonical block, as before; the walk stays the fallback."""
    pending = chain.get_block()
    for index, transaction in enumerate(pending.transactions):
        if transaction.hash == transaction_hash:
            return pending, transaction, index
    with suppress(EthTransactionNotFound, EthBlockNotFound, IndexError):
        number, index = chain.chaindb.get_transaction_index(transaction_hash)
        block = chain.get_canonical_block_by_number(number)
        if block.transactions[index].hash == transaction_hash:
            return block, block.transactions[index], index
    found: tuple[Any, Any, int] = _walk_to_transaction(chain, transaction_hash)
    return found


_walk_to_transaction = eth_tester_pyevm._get_transaction_by_hash


#: The zero address, which contracts read as "nobody".
ZERO_ADDRESS = to_checksum_address("0x" + "00" * 20)


def parse_address(value: str, what: str = "address") -> ChecksumAddress:
    """``value`` as a checksummed address, or :class:`InvalidInput` naming ``what``."""
    text = value.strip() if isinstance(value, str) else ""
    if not (text.startswith("0x") and is_address(text)):
        raise InvalidInput(f"{what} {value!r} is not an Ethereum address (0x followed by 40 hex digits).")
    mixed_case = text[2:] not in (text[2:].lower(), text[2:].upper())
    if mixed_case and to_checksum_address(text) != text:
        raise InvalidInput(f"{what} {value!r} has a wrong checksum: check it for a typo.")
    return to_checksum_address(text)


@dataclass
class Chain:
    """A connection to one chain, and the dev helpers that local chains support."""

    w3: Web3
    #: "embedded" for the in-process EVM, else the endpoint URL.
    endpoint: str
    _chain_id: int | None = field(default=None, repr=False)
    #: EIP-1559 fees for what this connection sends; the default is the node's own
    #: suggestion (twice the base fee plus its tip), with no cap.
    fees: FeePolicy = field(default_factory=FeePolicy)
    #: Blocks on top of a transaction before :meth:`transact` returns its receipt
    #: (0: as soon as it is mined). The receipt is read again at that depth, so a
    #: transaction a reorganisation took out is noticed.
    confirmations: int = 0

    def __post_init__(self) -> None:
        if self.confirmations < 0:
            raise InvalidInput(f"Confirmations must be 0 or more, not {self.confirmations}.")

    @classmethod
    def embedded(cls) -> Chain:
        """A fresh in-process EVM with ten funded, unlocked dev accounts; it estimates gas
        with :func:`_quick_gas_estimate`."""
        eth_tester_pyevm._get_transaction_by_hash = _find_transaction
        provider = EthereumTesterProvider()
        cast(Any, provider.ethereum_tester).backend.chain.gas_estimator = _quick_gas_estimate
        return cls(Web3(provider), "embedded")

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        expected_chain_id: int | None = None,
        timeout: float = 10.0,
        fees: FeePolicy | None = None,
        confirmations: int = 0,
    ) -> Chain:
        """Connect to the node at ``url``; fail fast and clearly if it does not answer.

        With ``expected_chain_id``, refuse a node that reports another chain id. ``fees``
        and ``confirmations`` apply to every transaction sent through this connection.
        """
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"RPC URL {url!r} must start with http:// or https://.")
        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=_RETRY))
        chain = cls(w3, url, fees=fees or FeePolicy(), confirmations=confirmations)
        try:
            chain_id = chain.chain_id
        except (requests.exceptions.RequestException, OSError, ValueError) as exc:
            raise NodeUnreachable(
                f"No Ethereum node answers at {url}: start one with `chainpass node`, or pass --rpc "
                f"with the right URL. ({type(exc).__name__})"
            ) from None
        if expected_chain_id is not None and chain_id != expected_chain_id:
            raise ChainIdMismatch(f"The node at {url} is chain {chain_id}, not the expected chain {expected_chain_id}.")
        return chain

    @property
    def is_embedded(self) -> bool:
        return self.endpoint == "embedded"

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    # ------------------------------------------------------------------ accounts

    def dev_accounts(self) -> list[ChecksumAddress]:
        """The accounts the node holds unlocked (Anvil's and eth-tester's ten)."""
        return [to_checksum_address(a) for a in self.w3.eth.accounts]

    def account(self, spec: str | int) -> ChecksumAddress:
        """A dev account by index (``"0"`` … ``"9"``) or by address."""
        accounts = self.dev_accounts()
        text = str(spec).strip()
        if text.isdigit():
            index = int(text)
            if index >= len(accounts):
                raise InvalidInput(f"Account index {index} is out of range: this node has {len(accounts)}.")
            return accounts[index]
        address = parse_address(text, "account")
        if address not in accounts:
            raise InvalidInput(
                f"Account {address} is not unlocked on this node: use one of its dev accounts "
                f"(an index 0-{len(accounts) - 1} or an address from `chainpass accounts`)."
            )
        return address

    def sign_typed_data(self, signer: Sender, typed_data: dict[str, Any]) -> bytes:
        """Sign EIP-712 ``typed_data`` (``eth_signTypedData_v4`` JSON) as ``signer``: a local
        account signs here, a dev account where its key lives (the embedded EVM or the node)."""
        if isinstance(signer, LocalAccount):
            return bytes(Account.sign_typed_data(signer.key, full_message=typed_data).signature)
        address = self.account(signer)
        if self.is_embedded:
            backend = self._tester().backend
            key = next(k for k in backend.account_keys if k.public_key.to_checksum_address() == address)
            return bytes(Account.sign_typed_data(key.to_bytes(), full_message=typed_data).signature)
        response = self.w3.provider.make_request(cast(Any, "eth_signTypedData_v4"), [address, json.dumps(typed_data)])
        if "error" in response and "expected object" in str(response["error"].get("message")):
            # Ganache 7 takes the typed data as a JSON object only (MetaMask and Anvil: a string).
            response = self.w3.provider.make_request(cast(Any, "eth_signTypedData_v4"), [address, typed_data])
        if "error" in response:
            raise InvalidInput(f"The node would not sign for {address}: {response['error'].get('message')}")
        return bytes.fromhex(str(response["result"]).removeprefix("0x"))

    # -------------------------------------------------------------- transactions

    def contract(self, artifact: Artifact, address: str) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=artifact.abi)

    def transact(self, call: ContractFunction | ContractConstructor, sender: Sender) -> TxReceipt:
        """Send ``call`` from ``sender`` and wait for a successful receipt.

        A call the contract would refuse is refused before it is sent (gas estimation
        runs it), and its custom error becomes a :class:`ContractRevert` with a sentence.
        A local account signs here; an address must be unlocked on the node. Fees follow
        :attr:`fees` (a fee above its cap is refused before anything is signed), and with
        :attr:`confirmations` the receipt is returned only once that many blocks stand on it.
        """
        fees = self.fee_fields()
        try:
            if isinstance(sender, LocalAccount):
                params = {"from": sender.address, "nonce": self.w3.eth.get_transaction_count(sender.address, "pending")}
                tx = call.build_transaction(cast(TxParams, {**params, **fees}))
                signed = sender.sign_transaction(cast(dict[str, Any], tx))
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            else:
                tx_hash = call.transact(cast(TxParams, {"from": sender, **fees}))
        except Exception as exc:
            raise self.refusal(exc, sender_address(sender)) from None
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
        if self.confirmations:
            receipt = self.confirmed(receipt)
        if receipt["status"] != 1:
            raise TransactionFailed(
                f"Transaction {tx_hash.hex()} failed in block {receipt['blockNumber']} "
                f"after using {receipt['gasUsed']} gas."
            )
        return receipt

    def fee_fields(self) -> dict[str, Any]:
        """The EIP-1559 fee fields for the next transaction: none when the policy is the
        default (the node's suggestion, as web3 fills it in), else the policy's, checked
        against its cap (:class:`~chainpass.fees.FeeCapExceeded` before anything is signed)."""
        if self.fees == FeePolicy():
            return {}
        try:
            # The pending block carries the base fee the next block will charge.
            base_fee = int(self.w3.eth.get_block("pending").get("baseFeePerGas") or 0)
            try:
                tip = int(self.w3.eth.max_priority_fee)
            except Exception:  # a node without eth_maxPriorityFeePerGas: 1 gwei, as web3 assumes
                tip = GWEI
        except (requests.exceptions.RequestException, ConnectionError) as exc:
            raise NodeUnreachable(f"The node at {self.endpoint} stopped answering: {exc}") from None
        max_fee, priority_fee = self.fees.fees(base_fee, tip)
        return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority_fee}

    def confirmed(self, receipt: TxReceipt) -> TxReceipt:
        """Wait until :attr:`confirmations` blocks stand on ``receipt``'s block, then read the
        receipt again: a reorganisation may have moved the transaction, or dropped it."""
        tx_hash = receipt["transactionHash"]
        deadline = time.monotonic() + RECEIPT_TIMEOUT
        while True:
            head = self.w3.eth.block_number
            current = self._receipt_or_none(tx_hash)
            if current is not None and head >= current["blockNumber"] + self.confirmations:
                block = self.w3.eth.get_block(current["blockNumber"])
                if block["hash"] == current["blockHash"]:
                    return current
            if time.monotonic() > deadline:
                where = "is no longer on the chain" if current is None else f"is in block {current['blockNumber']}"
                raise ConfirmationTimeout(
                    f"Transaction {bytes(tx_hash).hex()} {where}, and the chain did not reach "
                    f"{self.confirmations} confirmations on it within {RECEIPT_TIMEOUT} s (head {head}). "
                    "Check it later; re-running a chainpass command never records anything twice."
                )
            time.sleep(CONFIRMATION_POLL)

    def _receipt_or_none(self, tx_hash: Any) -> TxReceipt | None:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def deploy(self, artifact: Artifact, args: list[Any], sender: Sender) -> TxReceipt:
        """Deploy ``artifact`` with constructor ``args`` from ``sender``."""
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        return self.transact(factory.constructor(*args), sender)

    def refusal(self, exc: Exception, sender: str) -> ChainpassError:
        """What ``exc``, raised while sending from ``sender``, means: the contract's custom error
        as a sentence, a node gone, an account without ETH, or the node's own refusal."""
        if isinstance(exc, ChainpassError):
            return exc
        data = revert_data_from_exception(exc)
        revert: ContractRevert | None = decode_revert(data) if data else None
        if revert is not None:
            return revert
        if isinstance(exc, requests.exceptions.RequestException | ConnectionError):
            return NodeUnreachable(f"The node at {self.endpoint} stopped answering: {exc}")
        if any(text in str(exc).lower() for text in NO_FUNDS_TEXTS):
            return InsufficientFunds(
                f"{sender} has no ETH to pay for gas: fund it, or sign the message instead and let a "
                "relayer submit it (chainpass consent typed-data / relay)."
            )
        return TransactionFailed(f"The transaction was refused: {exc}")

    # ------------------------------------------------------------ dev helpers

    def latest_timestamp(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def snapshot(self) -> Any:
        """Save the chain state (embedded or Anvil/Ganache) to return to with :meth:`revert`."""
        if self.is_embedded:
            return self._tester().take_snapshot()
        return self._dev_request("evm_snapshot", [])

    def revert(self, snapshot: Any) -> None:
        """Return to a state saved by :meth:`snapshot`."""
        if self.is_embedded:
            self._tester().revert_to_snapshot(snapshot)
        elif self._dev_request("evm_revert", [snapshot]) is False:
            raise DevMethodUnsupported(f"The node at {self.endpoint} has no snapshot {snapshot!r} to revert to.")

    def advance_time(self, seconds: int) -> None:
        """Move the chain's clock forward by ``seconds`` and mine a block there."""
        if self.is_embedded:
            tester = self._tester()
            # The pending block may already be ahead (its time is taken from the wall clock,
            # e.g. after a revert), and eth-tester mines one second before the time travelled to.
            pending = int(tester.get_block_by_number("pending")["timestamp"])
            tester.time_travel(max(self.latest_timestamp() + seconds, pending) + 1)
        else:
            self._dev_request("evm_increaseTime", [seconds])
            self._dev_request("evm_mine", [])

    def set_automine(self, enabled: bool) -> None:
        """Mine each transaction as it arrives (the default), or hold them in the pool until
        :meth:`mine` (or automining again)."""
        if self.is_embedded:
            tester = self._tester()
            if enabled:
                tester.enable_auto_mine_transactions()
            else:
                tester.disable_auto_mine_transactions()
            return
        try:
            self._dev_request("evm_setAutomine", [enabled])
        except DevMethodUnsupported:  # Ganache 7: the geth-style miner switch instead
            self._dev_request("miner_start" if enabled else "miner_stop", [])

    def mine(self) -> None:
        """Mine one block now, with the transactions waiting in the pool."""
        if self.is_embedded:
            self._tester().mine_blocks(1)
        else:
            self._dev_request("evm_mine", [])

    def _dev_request(self, method: str, params: list[Any]) -> Any:
        """Call a local node's dev method; a node without it raises :class:`DevMethodUnsupported`."""
        response = self.w3.provider.make_request(cast(Any, method), params)
        if "error" in response:
            error = response["error"]
            detail = error.get("message") if isinstance(error, dict) else error
            raise DevMethodUnsupported(
                f"The node at {self.endpoint} refused {method} ({detail}): it works on the embedded chain, "
                "Anvil or Ganache, not on a public node."
            )
        return response["result"]

    def _tester(self) -> Any:
        return cast(EthereumTesterProvider, self.w3.provider).ethereum_tester
