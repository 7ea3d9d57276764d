"""One object for the chain we talk to: the embedded EVM, a local node, or any JSON-RPC URL.

``Chain.embedded()`` runs an in-process EVM (eth-tester + py-evm): nothing to install,
instant, gone when the process ends. ``Chain.connect(url)`` talks to a node (Anvil from
``chainpass node``, Ganache, or any EVM endpoint). Everything else in chainpass takes a
``Chain``; there is no global connection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import is_address, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import TransactionNotFound
from web3.types import TxParams, TxReceipt

from chainpass.artifacts import Artifact
from chainpass.backend import Backend, EmbeddedBackend, NoAnswer, NodeBackend, Rpc, RpcError, as_int, shape_receipt
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

#: Seconds to wait for a transaction's receipt before giving up, unless the chain says otherwise.
RECEIPT_TIMEOUT = 120.0
#: Seconds between looks at the chain head while waiting for confirmations.
CONFIRMATION_POLL = 0.5
#: How a refusal for want of ETH reads: nodes say "insufficient funds", the embedded EVM
#: (py-evm) "cannot afford txn gas".
NO_FUNDS_TEXTS = ("insufficient funds", "cannot afford")
#: The requests that tell the fees of the next block: its base fee, and the node's tip.
FEE_REQUESTS: list[tuple[str, list[Any]]] = [
    ("eth_getBlockByNumber", ["pending", False]),
    ("eth_maxPriorityFeePerGas", []),
]

#: Who sends a transaction: an account the node holds unlocked (its address), or a
#: local account (from a keystore) that signs here.
Sender = str | LocalAccount
#: What :meth:`Chain.transact` sends: a contract function or constructor of web3, or
#: transaction fields (``to``, ``data``, optionally ``value`` and ``gas``).
Call = ContractFunction | ContractConstructor | TxParams


def sender_address(sender: Sender) -> ChecksumAddress:
    return sender.address if isinstance(sender, LocalAccount) else to_checksum_address(sender)


def fee_inputs(answers: list[Any]) -> tuple[int, int]:
    """(next base fee, suggested tip) from the answers to :data:`FEE_REQUESTS`; a node without
    ``eth_maxPriorityFeePerGas`` gets 1 gwei, as web3 assumes."""
    block, tip = answers
    if isinstance(block, RpcError) or not block:
        raise TransactionFailed(f"The node did not give its pending block: {block}")
    suggested = GWEI if isinstance(tip, RpcError) or tip is None else as_int(tip)
    return as_int(block.get("baseFeePerGas") or 0), suggested


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
    """A connection to one chain, the one way chainpass sends a transaction, and the dev
    helpers that local chains support."""

    #: The embedded EVM or a node (:mod:`chainpass.backend`): what differs between them.
    backend: Backend
    _chain_id: int | None = field(default=None, repr=False)
    #: EIP-1559 fees for what this connection sends; the default is twice the next base fee
    #: plus the node's suggested tip, with no cap.
    fees: FeePolicy = field(default_factory=FeePolicy)
    #: Blocks on top of a transaction before :meth:`transact` returns its receipt
    #: (0: as soon as it is mined). The receipt is read again at that depth, so a
    #: transaction a reorganisation took out is noticed.
    confirmations: int = 0
    #: Seconds to wait for a transaction's receipt, and again for its confirmations, before
    #: giving up (the transaction may still be mined: re-running a command is always safe).
    receipt_timeout: float = RECEIPT_TIMEOUT

    def __post_init__(self) -> None:
        if self.confirmations < 0:
            raise InvalidInput(f"Confirmations must be 0 or more, not {self.confirmations}.")
        if self.receipt_timeout <= 0:
            raise InvalidInput(f"The time to wait for a receipt must be positive, not {self.receipt_timeout}.")
        self.w3: Web3 = self.backend.w3
        #: "embedded" for the in-process EVM, else the endpoint URL.
        self.endpoint: str = self.backend.endpoint
        self.rpc: Rpc = self.backend.rpc()

    @classmethod
    def embedded(cls) -> Chain:
        """A fresh in-process EVM with ten funded, unlocked dev accounts."""
        return cls(EmbeddedBackend())

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        expected_chain_id: int | None = None,
        timeout: float = 10.0,
        fees: FeePolicy | None = None,
        confirmations: int = 0,
        receipt_timeout: float = RECEIPT_TIMEOUT,
    ) -> Chain:
        """Connect to the node at ``url``; fail fast and clearly if it does not answer.

        With ``expected_chain_id``, refuse a node that reports another chain id. ``fees``,
        ``confirmations`` and ``receipt_timeout`` apply to every transaction sent through this
        connection.
        """
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"RPC URL {url!r} must start with http:// or https://.")
        chain = cls(
            NodeBackend(url, timeout),
            fees=fees or FeePolicy(),
            confirmations=confirmations,
            receipt_timeout=receipt_timeout,
        )
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
        return self.backend.embedded

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

    def local_key(self, sender: Sender) -> LocalAccount | None:
        """A local account that signs for ``sender``: itself if it is one, the key of a dev
        account the backend knows (the embedded chain's, Anvil's), else None (the node holds it)."""
        if isinstance(sender, LocalAccount):
            return sender
        return self.backend.dev_key(sender_address(sender), self.chain_id)

    def sign_typed_data(self, signer: Sender, typed_data: dict[str, Any]) -> bytes:
        """Sign EIP-712 ``typed_data`` (``eth_signTypedData_v4`` JSON) as ``signer``: a local
        account signs here, a dev account where its key lives (the embedded EVM or the node)."""
        if isinstance(signer, LocalAccount):
            return bytes(Account.sign_typed_data(signer.key, full_message=typed_data).signature)
        return self.backend.sign_typed_data(self.account(signer), typed_data)

    # -------------------------------------------------------------- transactions

    def contract(self, artifact: Artifact, address: str) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=artifact.abi)

    def transact(self, call: Call, sender: Sender) -> TxReceipt:
        """Send ``call`` from ``sender`` and wait for a successful receipt: the one path of every
        single transaction chainpass sends (many from one key go through
        :class:`~chainpass.sender.BulkSender`, which shares its fees, refusals and confirmations).

        A call the contract would refuse is refused before it is sent (gas estimation
        runs it), and its custom error becomes a :class:`ContractRevert` with a sentence.
        A local account signs here; an address must be unlocked on the node. Fees follow
        :attr:`fees` (a fee above its cap is refused before anything is signed), and with
        :attr:`confirmations` the receipt is returned only once that many blocks stand on it.
        """
        address = sender_address(sender)
        try:
            tx = {**_fields(call), "from": address}
            if "gas" not in tx:
                tx["gas"] = int(self.w3.eth.estimate_gas(cast(TxParams, tx)))
            max_fee, tip = self.fee_quote()
            tx.update(maxFeePerGas=max_fee, maxPriorityFeePerGas=tip)
            if isinstance(sender, LocalAccount):
                tx.update(nonce=self.w3.eth.get_transaction_count(address, "pending"), chainId=self.chain_id)
                tx_hash = self.w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
            else:
                tx_hash = self.w3.eth.send_transaction(cast(TxParams, tx))
        except Exception as exc:  # web3 raises several kinds for a revert
            raise self.refusal(exc, address) from None
        receipt = self.receipt(bytes(tx_hash))
        if self.confirmations:
            receipt = self.confirmed(receipt)
        if receipt["status"] != 1:
            raise TransactionFailed(
                f"Transaction 0x{bytes(tx_hash).hex()} failed in block {receipt['blockNumber']} "
                f"after using {receipt['gasUsed']} gas."
            )
        return receipt

    def fee_quote(self) -> tuple[int, int]:
        """(max fee, priority fee) per gas for the next transaction, by :attr:`fees` (a fee above
        its cap raises :class:`~chainpass.fees.FeeCapExceeded` before anything is signed)."""
        try:
            return self.fees.fees(*fee_inputs(self.rpc.batch(FEE_REQUESTS)))
        except NoAnswer as exc:
            raise NodeUnreachable(f"The node at {self.endpoint} stopped answering: {exc}") from None

    def receipt(self, tx_hash: bytes) -> TxReceipt:
        """The receipt of ``tx_hash`` once it is mined (waiting up to :attr:`receipt_timeout`),
        shaped as web3 shapes receipts but without its slow formatting of logs."""
        text = "0x" + tx_hash.hex()
        deadline = time.monotonic() + self.receipt_timeout
        delay = 0.005
        while True:
            try:
                found = self.rpc.call("eth_getTransactionReceipt", [text])
            except NoAnswer as exc:
                raise NodeUnreachable(f"The node at {self.endpoint} stopped answering: {exc}") from None
            if found:
                return shape_receipt(found)
            if time.monotonic() > deadline:
                raise TransactionFailed(f"No receipt for {text} after {self.receipt_timeout:g} s: is the node mining?")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def confirmed(self, receipt: TxReceipt) -> TxReceipt:
        """Wait until :attr:`confirmations` blocks stand on ``receipt``'s block, then read the
        receipt again: a reorganisation may have moved the transaction, or dropped it."""
        tx_hash = receipt["transactionHash"]
        deadline = time.monotonic() + self.receipt_timeout
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
                    f"{self.confirmations} confirmations on it within {self.receipt_timeout:g} s (head {head}). "
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
        """What ``exc``, raised while sending from ``sender`` (by web3, or a JSON-RPC error
        reply), means: the contract's custom error as a sentence, a node gone, an account
        without ETH, or the node's own refusal. The one decoder of refusals."""
        if isinstance(exc, ChainpassError):
            return exc
        data = revert_data_from_exception(exc)
        revert: ContractRevert | None = decode_revert(data) if data else None
        if revert is not None:
            return revert
        if isinstance(exc, requests.exceptions.RequestException | ConnectionError | NoAnswer):
            return NodeUnreachable(f"The node at {self.endpoint} stopped answering: {exc}")
        if any(text in str(exc).lower() for text in NO_FUNDS_TEXTS):
            return InsufficientFunds(
                f"{sender} cannot pay for gas: fund it and run again (a consent can also be signed and "
                "submitted by a relayer: chainpass consent typed-data / relay)."
            )
        return TransactionFailed(f"The node refused the transaction: {exc}")

    # ------------------------------------------------------------ dev helpers

    def latest_timestamp(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def snapshot(self) -> Any:
        """Save the chain state (embedded or Anvil/Ganache) to return to with :meth:`revert`."""
        return self.backend.snapshot()

    def revert(self, snapshot: Any) -> None:
        """Return to a state saved by :meth:`snapshot`."""
        self.backend.revert(snapshot)

    def advance_time(self, seconds: int) -> None:
        """Move the chain's clock forward by ``seconds`` and mine a block there."""
        self.backend.advance_time(seconds, self.latest_timestamp())

    def set_automine(self, enabled: bool) -> None:
        """Mine each transaction as it arrives (the default), or hold them in the pool until
        :meth:`mine` (or automining again)."""
        self.backend.set_automine(enabled)

    def mine(self) -> None:
        """Mine one block now, with the transactions waiting in the pool."""
        self.backend.mine()


def _fields(call: Call) -> dict[str, Any]:
    """The transaction fields of ``call`` (``to``, ``data``, and ``value``/``gas`` if given)."""
    if isinstance(call, ContractFunction):
        return {"to": call.address, "data": call._encode_transaction_data()}
    if isinstance(call, ContractConstructor):
        return {"data": call.data_in_transaction}
    return dict(call)
