"""What every contract client shares: where the contract is, sending, and reading its logs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar, Protocol, Self

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.types import LogReceipt, TxReceipt

from chainpass.artifacts import load_artifact
from chainpass.chain import ZERO_ADDRESS, Chain, Sender, parse_address
from chainpass.deployment import Deployment
from chainpass.errors import DeploymentError
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


class ContractClient:
    """A deployed chainpass contract on a :class:`~chainpass.chain.Chain`."""

    #: The contract's name in the artifacts and deployment records.
    CONTRACT_NAME: ClassVar[str]
    #: The name of the EIP-712 domain its signed messages are in.
    DOMAIN_NAME: ClassVar[str]

    def __init__(self, chain: Chain, address: str, *, first_block: int = 0, logs: LogSource | None = None) -> None:
        self.chain = chain
        self.address = parse_address(address, f"{self.CONTRACT_NAME} address")
        #: Where log queries start: the contract's deployment block.
        self.first_block = first_block
        #: Where logs are read, if not from the node.
        self.logs = logs
        self.contract: Contract = chain.contract(load_artifact(self.CONTRACT_NAME), self.address)

    @classmethod
    def from_deployment(cls, chain: Chain, deployment: Deployment, *, logs: LogSource | None = None) -> Self:
        record = deployment.contracts[cls.CONTRACT_NAME]
        return cls(chain, record.address, first_block=record.block_number, logs=logs)

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
        return self._send("setGuardian", sender, address)

    def pause(self, *, sender: Sender) -> TxReceipt:
        """The guardian stops the writes that add trust; recalls, revocations and governance go on."""
        return self._send("pause", sender)

    def unpause(self, *, sender: Sender) -> TxReceipt:
        """The governor lifts the pause."""
        return self._send("unpause", sender)

    def _send(self, function: str, sender: Sender, *args: Any) -> TxReceipt:
        return self.chain.transact(getattr(self.contract.functions, function)(*args), sender)

    def _get_logs(self, topics: Sequence[str | None], last: int | None = None) -> list[LogReceipt]:
        """This contract's logs matching ``topics``, from its deployment block to ``last``
        (the latest block by default), queried in chunks of :data:`LOG_CHUNK` blocks.
        The embedded chain is only ever asked for this contract's logs this way.
        With a :class:`LogSource`, the logs come from it instead."""
        if self.logs is not None:
            return [log for log in self.logs.get_logs(topics) if last is None or log["blockNumber"] <= last]
        end = self.chain.w3.eth.block_number if last is None else last
        logs: list[LogReceipt] = []
        for start in range(self.first_block, end + 1, LOG_CHUNK):
            logs += self.chain.w3.eth.get_logs(
                {
                    "address": self.address,
                    "fromBlock": start,
                    "toBlock": min(start + LOG_CHUNK - 1, end),
                    "topics": list(topics),
                }
            )
        return logs
