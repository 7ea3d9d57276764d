"""What every contract client shares: where the contract is, sending, and reading its logs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, cached_property
from typing import Any, ClassVar, Protocol, Self, cast

from eth_abi import encode as abi_encode
from eth_typing import ABIFunction, ChecksumAddress
from eth_utils import to_checksum_address
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types
from web3.contract import Contract
from web3.types import LogReceipt, TxParams, TxReceipt

from chainpass.artifacts import event_topic, load_artifact
from chainpass.backend import NoAnswer, RpcError
from chainpass.chain import ZERO_ADDRESS, Chain, Sender, parse_address
from chainpass.deployment import Deployment
from chainpass.errors import DeploymentError, NodeUnreachable
from chainpass.signatures import DOMAIN_VERSION

#: ERC-5267's fields bitmap for a domain of name, version, chainId and verifyingContract.
_DOMAIN_FIELDS = b"\x0f"

#: Blocks per log query: providers refuse very wide ranges.
LOG_CHUNK = 2_000


class LogSource(Protocol):
    """Where a client reads its contract's logs instead of the node, e.g. a local
    :class:`~chainpass.index.TraceIndex`: the logs matching ``topics`` (None matches
    anything), in chain order, shaped like web3's log receipts."""

    def get_logs(self, topics: Sequence[str | None]) -> list[LogReceipt]: ...


@cache
def _functions(contract_name: str) -> dict[str, ABIFunction]:
    abi = load_artifact(contract_name).abi
    return {e["name"]: cast(ABIFunction, e) for e in abi if e.get("type") == "function"}


def calldata(contract_name: str, function: str, *args: Any) -> bytes:
    """The calldata of ``function(*args)`` of ``contract_name``, encoded with eth-abi directly
    (web3's contract functions spend a quarter of a second encoding a batch of 100 passports)."""
    abi = _functions(contract_name)[function]
    return bytes(function_abi_to_4byte_selector(abi)) + abi_encode(get_abi_input_types(abi), args)


class ContractClient:
    """A deployed chainpass contract on a :class:`~chainpass.chain.Chain`."""

    #: The contract's name in the artifacts and deployment records.
    CONTRACT_NAME: ClassVar[str]
    #: The name of the EIP-712 domain its signed messages are in.
    DOMAIN_NAME: ClassVar[str]

    def __init__(
        self, chain: Chain, address: str, *, first_block: int = 0, log_source: LogSource | None = None
    ) -> None:
        self.chain = chain
        self.address = parse_address(address, f"{self.CONTRACT_NAME} address")
        #: Where log queries start: the contract's deployment block.
        self.first_block = first_block
        #: Where logs are read, if not from the node.
        self.log_source = log_source
        self.contract: Contract = chain.contract(load_artifact(self.CONTRACT_NAME), self.address)

    @classmethod
    def from_deployment(cls, chain: Chain, deployment: Deployment, *, log_source: LogSource | None = None) -> Self:
        record = deployment.contracts[cls.CONTRACT_NAME]
        return cls(chain, record.address, first_block=record.block_number, log_source=log_source)

    @cached_property
    def signing_domain(self) -> tuple[int, ChecksumAddress]:
        """The chain id and verifying contract of the EIP-712 domain its messages are signed
        in, as the contract itself states them (ERC-5267 ``eip712Domain()``), once its name
        and version are the ones this client signs."""
        fields, name, version, chain_id, contract, _salt, _extensions = self.contract.functions.eip712Domain().call()
        if (bytes(fields), name, version) != (_DOMAIN_FIELDS, self.DOMAIN_NAME, DOMAIN_VERSION):
            raise DeploymentError(
                f"The {self.CONTRACT_NAME} at {self.address} signs in EIP-712 domain {name!r} version {version!r}, "
                f"which this client does not know ({self.DOMAIN_NAME!r} version {DOMAIN_VERSION!r}): use the "
                "chainpass release that deployed it."
            )
        return int(chain_id), to_checksum_address(contract)

    # ------------------------------------------------ governance and emergency stop

    def governor(self) -> ChecksumAddress:
        return to_checksum_address(self.contract.functions.governor().call())

    def guardian(self) -> ChecksumAddress | None:
        """Who may pause the contract in an incident (docs/operations.md), if anyone."""
        guardian = to_checksum_address(self.contract.functions.guardian().call())
        return None if guardian == ZERO_ADDRESS else guardian

    def paused(self) -> bool:
        """Whether the guardian has paused the writes that add trust (only the governor unpauses)."""
        return bool(self.contract.functions.paused().call())

    def set_guardian(self, guardian: str | None, *, sender: Sender) -> TxReceipt:
        """The governor names ``guardian`` (None: nobody may pause)."""
        address = ZERO_ADDRESS if guardian is None else parse_address(guardian, "guardian")
        return self.send("setGuardian", sender, address)

    def pause(self, *, sender: Sender) -> TxReceipt:
        """The guardian stops the writes that add trust; recalls, revocations and governance go on."""
        return self.send("pause", sender)

    def unpause(self, *, sender: Sender) -> TxReceipt:
        """The governor lifts the pause."""
        return self.send("unpause", sender)

    def send(self, function: str, sender: Sender, *args: Any) -> TxReceipt:
        """Call ``function(*args)`` of the contract as ``sender`` in one transaction
        (:meth:`Chain.transact`): the receipt, or the contract's refusal as an error."""
        return self.chain.transact(getattr(self.contract.functions, function)(*args), sender)

    def views(self, function: str, args: Sequence[Any], block: int | None = None) -> list[bytes]:
        """The answer of view ``function(arg)`` for each of ``args`` (one argument each), as
        the ABI encodes it, at ``block`` (by default the latest): one JSON-RPC batch (one call
        at a time on the embedded chain, or from a node that refuses batches), not web3's
        contract calls (some 5 ms each: it checks and formats every request)."""
        tag = "latest" if block is None else hex(block)
        data = ["0x" + calldata(self.CONTRACT_NAME, function, arg).hex() for arg in args]
        calls = [("eth_call", [{"to": self.address, "data": one}, tag]) for one in data]
        try:
            answers = self.chain.rpc.batch(calls)
        except NoAnswer as exc:
            raise NodeUnreachable(f"The node at {self.chain.endpoint} stopped answering: {exc}") from None
        words = []
        for answer in answers:
            if isinstance(answer, RpcError):
                raise self.chain.refusal(answer, self.address)
            words.append(bytes.fromhex(str(answer).removeprefix("0x")))
        return words

    def call(self, function: str, *args: Any, gas: int | None = None) -> TxParams:
        """The transaction fields of ``function(*args)``, for a sender that sends many
        (:mod:`chainpass.sender`); ``gas`` fixes the gas limit (else it is estimated)."""
        tx: dict[str, Any] = {"to": self.address, "data": "0x" + calldata(self.CONTRACT_NAME, function, *args).hex()}
        if gas is not None:
            tx["gas"] = gas
        return cast(TxParams, tx)

    def topic(self, event: str) -> str:
        """The topic (``0x`` hex) of the contract's ``event``, for :meth:`logs` queries."""
        return "0x" + event_topic(load_artifact(self.CONTRACT_NAME).abi, event).hex()

    def logs(self, topics: Sequence[str | None], last: int | None = None, first: int | None = None) -> list[LogReceipt]:
        """This contract's logs matching ``topics``, from its deployment block (or ``first``,
        if later) to ``last`` (the latest block by default), queried in chunks of
        :data:`LOG_CHUNK` blocks. The embedded chain is only ever asked for this contract's
        logs this way. With a :class:`LogSource`, the logs come from it instead."""
        begin = self.first_block if first is None else max(first, self.first_block)
        if self.log_source is not None:
            return [
                log
                for log in self.log_source.get_logs(topics)
                if (last is None or log["blockNumber"] <= last) and (first is None or log["blockNumber"] >= first)
            ]
        end = self.chain.w3.eth.block_number if last is None else last
        logs: list[LogReceipt] = []
        for start in range(begin, end + 1, LOG_CHUNK):
            logs += self.chain.w3.eth.get_logs(
                {
                    "address": self.address,
                    "fromBlock": start,
                    "toBlock": min(start + LOG_CHUNK - 1, end),
                    "topics": list(topics),
                }
            )
        return logs
