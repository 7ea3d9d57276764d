"""Governance by a Safe multisig through a timelock (docs/governance.md).

The chainpass contracts take one governor each. In production that governor is an
OpenZeppelin ``TimelockController``, and the only proposer (and canceller) on the timelock
is a Safe multisig: no single key can appoint an authority, and everyone can see a change
coming for the timelock's delay before it takes effect.

The flow, each step a function here and a ``chainpass governance`` command:

1. :func:`setup_governance` deploys the Safe (Safe 1.4.1's singleton, proxy factory and
   fallback handler, then a proxy set up with the owners and threshold) and the timelock
   (minimum delay fixed at deployment; proposer and canceller: the Safe; executor: anyone;
   admin: nobody but the timelock itself), and records where they live.
2. :func:`propose` turns a governance action (a call on one of our contracts, e.g.
   ``appointAuthority``) into a :class:`Proposal`: a Safe transaction (SafeTx) that calls
   ``timelock.schedule(action)``, for the Safe's next nonce. It is a JSON file.
3. Each owner signs the SafeTx's EIP-712 hash with their own key (:func:`sign_proposal`),
   offline; the signatures collect in the file.
4. :func:`submit` sends ``Safe.execTransaction`` once the threshold of owners has signed:
   the Safe schedules the action on the timelock.
5. After the delay, anyone calls :func:`execute` (``timelock.execute``): the action runs,
   with the timelock as ``msg.sender``, which is the contracts' governor.

:func:`proposal_status` says where a proposal stands. A cancellation is a proposal too
(:func:`cancel_action`): the Safe calls ``timelock.cancel``, at once, with the threshold.

The SafeTx hash is computed here with eth-account's EIP-712 encoder (Safe 1.4.1's domain:
chain id and the Safe's address); the tests check it against the Safe's own
``getTransactionHash``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt, Wei

from chainpass.artifacts import DEPLOYABLE_CONTRACTS, TIMELOCK_CONTRACT, load_artifact
from chainpass.chain import ZERO_ADDRESS, Chain, Sender, parse_address, sender_address
from chainpass.deployment import Deployment, DeploymentStore, code_hash_at, genesis_hash, proxy_admin, upgrade_call
from chainpass.enums import Level, Sector
from chainpass.errors import (
    ChainIdMismatch,
    ChainpassError,
    ContractRevert,
    DeploymentError,
    InvalidInput,
    TransactionFailed,
)
from chainpass.files import write_json_atomic
from chainpass.reverts import decode_revert, revert_data_from_exception

RECORD_FORMAT = 1
PROPOSAL_FORMAT = 1
PROPOSAL_KIND = "chainpass governance proposal"
ZERO_HASH = "0x" + "00" * 32
#: The timelock's delay when none is given: two days, for owners and the public to see a
#: change coming and cancel a rogue one. Incidents are the guardian's, not the governor's.
DEFAULT_DELAY = 2 * 24 * 3600
#: The longest delay accepted at setup or for one action: 30 days (a typo of more would freeze governance).
MAX_DELAY = 30 * 24 * 3600
#: How far past the Safe's next nonce a proposal may be queued.
MAX_QUEUE = 1000
#: The operations a Safe transaction can make: a plain call (never a delegatecall here).
CALL = 0
#: Safe 1.4.1's EIP-712 SafeTx type (contracts/Safe.sol, SAFE_TX_TYPEHASH).
SAFE_TX_FIELDS = [
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "data", "type": "bytes"},
    {"name": "operation", "type": "uint8"},
    {"name": "safeTxGas", "type": "uint256"},
    {"name": "baseGas", "type": "uint256"},
    {"name": "gasPrice", "type": "uint256"},
    {"name": "gasToken", "type": "address"},
    {"name": "refundReceiver", "type": "address"},
    {"name": "nonce", "type": "uint256"},
]
#: What the Safe's revert codes (GSxxx, contracts/Safe.sol's error codes) mean.
SAFE_ERRORS = {
    "GS013": "the call the Safe makes (on the timelock) failed",
    "GS020": "too few signatures for the Safe's threshold",
    "GS025": "the Safe's nonce moved on, or a field of the transaction was changed after signing",
    "GS026": "a signature is not an owner's, or the signatures are out of order",
}


class GovernanceError(ChainpassError):
    """A governance step cannot be taken now; the message says why and what to do."""


class NotEnoughSignatures(GovernanceError):
    """Fewer owners than the Safe's threshold have signed the proposal."""


class NotAnOwner(GovernanceError, ValueError):
    """The account is not an owner of the Safe."""


class NotReady(GovernanceError):
    """The timelock's delay has not passed yet; ``ready_at`` is when it will have."""

    def __init__(self, message: str, ready_at: int) -> None:
        super().__init__(message)
        self.ready_at = ready_at


# ---------------------------------------------------------------------- records


@dataclass(frozen=True)
class Governance:
    """A Safe and its timelock on one chain: the governor of the chainpass contracts."""

    chain_id: int
    genesis_hash: str
    #: The Safe (a proxy of the singleton): the timelock's only proposer and canceller.
    safe: ChecksumAddress
    #: The TimelockController: the governor to give the contracts.
    timelock: ChecksumAddress
    owners: tuple[ChecksumAddress, ...]
    threshold: int
    #: The timelock's minimum delay in seconds, fixed at deployment.
    min_delay: int
    singleton: ChecksumAddress
    proxy_factory: ChecksumAddress
    fallback_handler: ChecksumAddress
    block_number: int
    timelock_code_hash: str
    safe_code_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "safe": self.safe,
            "timelock": self.timelock,
            "owners": list(self.owners),
            "threshold": self.threshold,
            "min_delay": self.min_delay,
            "singleton": self.singleton,
            "proxy_factory": self.proxy_factory,
            "fallback_handler": self.fallback_handler,
            "block_number": self.block_number,
            "timelock_code_hash": self.timelock_code_hash,
            "safe_code_hash": self.safe_code_hash,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Governance:
        return cls(
            chain_id=int(data["chain_id"]),
            genesis_hash=str(data["genesis_hash"]),
            safe=to_checksum_address(data["safe"]),
            timelock=to_checksum_address(data["timelock"]),
            owners=tuple(to_checksum_address(o) for o in data["owners"]),
            threshold=int(data["threshold"]),
            min_delay=int(data["min_delay"]),
            singleton=to_checksum_address(data["singleton"]),
            proxy_factory=to_checksum_address(data["proxy_factory"]),
            fallback_handler=to_checksum_address(data["fallback_handler"]),
            block_number=int(data["block_number"]),
            timelock_code_hash=str(data["timelock_code_hash"]),
            safe_code_hash=str(data["safe_code_hash"]),
        )


@dataclass(frozen=True)
class GovernanceStore:
    """The folder of governance records: one file per node's chain, named like the
    deployment records (chain id and block 0's hash, see :mod:`chainpass.deployment`)."""

    directory: Path

    def path_for(self, chain: Chain) -> Path:
        return DeploymentStore(self.directory).path(chain.chain_id, genesis_hash(chain))

    def find(self, chain: Chain) -> Governance | None:
        path = self.path_for(chain)
        if not path.exists():
            return None
        try:
            record = Governance.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DeploymentError(f"The governance record {path} is damaged ({exc}): move it away.") from None
        if record.chain_id != chain.chain_id:
            raise ChainIdMismatch(f"The governance record {path} is for chain {record.chain_id}, not {chain.chain_id}.")
        return record

    def write(self, record: Governance, chain: Chain) -> Path:
        path = self.path_for(chain)
        if path.exists():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            path.replace(path.with_name(f"{path.stem}.replaced-{stamp}.json"))
        return write_json_atomic(path, record.to_json())

    def load(self, chain: Chain) -> Governance:
        """The checked governance of ``chain``, or :class:`DeploymentError` saying what to do."""
        record = self.find(chain)
        if record is None:
            raise DeploymentError(
                f"No governance record for this node's chain (chain id {chain.chain_id}) in {self.directory}: "
                "run `chainpass governance setup`."
            )
        check_governance(chain, record)
        return record


def check_governance(chain: Chain, record: Governance) -> None:
    """Raise :class:`DeploymentError` unless the recorded Safe and timelock are on ``chain``."""
    for what, address, recorded in (
        ("Safe", record.safe, record.safe_code_hash),
        ("timelock", record.timelock, record.timelock_code_hash),
    ):
        if code_hash_at(chain, address) != recorded:
            raise DeploymentError(
                f"The record says the {what} is at {address} on chain {chain.chain_id}, but its code is not there "
                "(the chain was reset?): run `chainpass governance setup --replace`."
            )


# ---------------------------------------------------------------------- setup


def parse_delay(text: str) -> int:
    """A duration as seconds: ``3600``, ``90s``, ``30m``, ``48h``, ``2d``."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", str(text))
    if not match:
        raise InvalidInput(f"Delay {text!r} is not a duration: give seconds, or a number with s, m, h or d (2d).")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _check_owners(owners: Sequence[str], threshold: int) -> tuple[ChecksumAddress, ...]:
    parsed = tuple(parse_address(o, "owner") for o in owners)
    if not parsed:
        raise InvalidInput("A Safe needs at least one owner: give --owner for each.")
    duplicates = sorted({o for o in parsed if parsed.count(o) > 1})
    if duplicates:
        raise InvalidInput(f"Owner {duplicates[0]} is given twice: each owner counts once.")
    if ZERO_ADDRESS in parsed:
        raise InvalidInput("The zero address cannot own a Safe: give real accounts.")
    if not 1 <= threshold <= len(parsed):
        raise InvalidInput(f"The threshold must be from 1 to the number of owners ({len(parsed)}), not {threshold}.")
    return parsed


def setup_governance(
    chain: Chain,
    sender: Sender,
    owners: Sequence[str],
    threshold: int,
    delay: int = DEFAULT_DELAY,
    store: GovernanceStore | None = None,
    *,
    replace: bool = False,
) -> tuple[Governance, bool]:
    """Deploy a Safe (``owners``, ``threshold``) and a timelock (minimum ``delay`` seconds)
    whose only proposer and canceller is the Safe; returns the record and whether it is new.

    Safe to re-run: a recorded governance with the same owners, threshold and delay is
    returned unchanged; one with others is refused unless ``replace`` (the old record is kept).
    ``sender`` only pays for the deployment: it gets no role in either contract.
    """
    parsed = _check_owners(owners, threshold)
    if not 0 <= delay <= MAX_DELAY:
        raise InvalidInput(f"A delay of {delay} s is outside 0 to {MAX_DELAY} s (30 days).")
    existing = store.find(chain) if store is not None else None
    if existing is not None and not replace:
        check_governance(chain, existing)
        if (set(existing.owners), existing.threshold, existing.min_delay) != (set(parsed), threshold, delay):
            raise GovernanceError(
                f"Chain {chain.chain_id} has governance already: Safe {existing.safe} ({existing.threshold} of "
                f"{', '.join(existing.owners)}), timelock {existing.timelock} ({existing.min_delay} s). Change it "
                "through a proposal, or set up afresh with --replace (the contracts already governed keep their "
                "governor)."
            )
        return existing, False

    singleton = _deploy(chain, "Safe", [], sender)
    factory = _deploy(chain, "SafeProxyFactory", [], sender)
    handler = _deploy(chain, "CompatibilityFallbackHandler", [], sender)
    safe_singleton = chain.contract(load_artifact("Safe"), singleton)
    initializer = safe_singleton.encode_abi(
        "setup", args=[list(parsed), threshold, ZERO_ADDRESS, b"", handler, ZERO_ADDRESS, 0, ZERO_ADDRESS]
    )
    proxy_factory = chain.contract(load_artifact("SafeProxyFactory"), factory)
    salt_nonce = int.from_bytes(os.urandom(32), "big")
    receipt = chain.transact(
        proxy_factory.functions.createProxyWithNonce(singleton, bytes.fromhex(initializer[2:]), salt_nonce), sender
    )
    created = proxy_factory.events.ProxyCreation().process_receipt(receipt, errors=DISCARD)
    if not created:
        raise TransactionFailed("The Safe proxy factory created no Safe.")
    safe = to_checksum_address(created[0]["args"]["proxy"])
    timelock = _deploy(chain, TIMELOCK_CONTRACT, [delay, [safe], [ZERO_ADDRESS], ZERO_ADDRESS], sender)
    record = Governance(
        chain_id=chain.chain_id,
        genesis_hash=genesis_hash(chain),
        safe=safe,
        timelock=timelock,
        owners=parsed,
        threshold=threshold,
        min_delay=delay,
        singleton=singleton,
        proxy_factory=factory,
        fallback_handler=handler,
        block_number=int(chain.w3.eth.block_number),
        timelock_code_hash=code_hash_at(chain, timelock),
        safe_code_hash=code_hash_at(chain, safe),
    )
    if store is not None:
        store.write(record, chain)
    return record, True


def _deploy(chain: Chain, name: str, args: list[Any], sender: Sender) -> ChecksumAddress:
    receipt = chain.deploy(load_artifact(name), args, sender)
    if receipt["contractAddress"] is None:
        raise DeploymentError(f"Deploying {name} created no contract.")
    return to_checksum_address(receipt["contractAddress"])


def safe_contract(chain: Chain, address: str) -> Contract:
    return chain.contract(load_artifact("Safe"), address)


def timelock_contract(chain: Chain, address: str) -> Contract:
    return chain.contract(load_artifact(TIMELOCK_CONTRACT), address)


def hand_over(chain: Chain, governance: Governance, deployment: Deployment, sender: Sender) -> list[TxReceipt]:
    """Offer governance of the deployed contracts to the timelock, as their governor ``sender``
    (a plain key): the first half of moving an existing deployment under the Safe. The timelock
    takes it with a proposal per contract, ``acceptGovernance`` (docs/governance.md); until
    then ``sender`` stays the governor. The proxies' ProxyAdmins (the power to upgrade) pass
    to the timelock at once, as OpenZeppelin's ProxyAdmin takes one step. A contract (or
    ProxyAdmin) the timelock governs already is skipped.
    """
    _check_chain(chain, governance.chain_id)
    receipts = []
    for name in DEPLOYABLE_CONTRACTS:
        contract = chain.contract(load_artifact(name), deployment.address(name))
        current = to_checksum_address(contract.functions.governor().call())
        if current == governance.timelock:
            continue
        if current != sender_address(sender):
            raise GovernanceError(
                f"{name} is governed by {current}, not {sender_address(sender)}: its governor hands over."
            )
        receipts.append(chain.transact(contract.functions.transferGovernance(governance.timelock), sender))
    for name in DEPLOYABLE_CONTRACTS:
        admin = proxy_admin(chain, deployment, name)
        if to_checksum_address(admin.functions.owner().call()) != governance.timelock:
            receipts.append(chain.transact(admin.functions.transferOwnership(governance.timelock), sender))
    return receipts


# ---------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action:
    """One call the timelock makes as governor: ``target.function(args)``."""

    target: ChecksumAddress
    #: The called contract's name ("IdentityRegistry", "ProductPassport", "TimelockController").
    contract: str
    function: str
    #: The arguments as JSON values (addresses, numbers, hex), for people to read.
    args: tuple[Any, ...]
    data: bytes
    value: int = 0

    @property
    def description(self) -> str:
        return f"{self.contract}.{self.function}({', '.join(str(a) for a in self.args)})"

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "contract": self.contract,
            "function": self.function,
            "args": list(self.args),
            "data": "0x" + self.data.hex(),
            "value": self.value,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Action:
        return cls(
            target=to_checksum_address(data["target"]),
            contract=str(data["contract"]),
            function=str(data["function"]),
            args=tuple(data["args"]),
            data=bytes.fromhex(str(data["data"]).removeprefix("0x")),
            value=int(data["value"]),
        )


def upgrade_action(chain: Chain, deployment: Deployment, name: str, implementation: str) -> Action:
    """The action upgrading ``name``'s proxy to ``implementation``: a call on its ProxyAdmin,
    which the timelock owns (docs/upgrades.md)."""
    call = upgrade_call(chain, deployment, name, implementation)
    proxy, target, _ = call.args
    data = keccak(text="upgradeAndCall(address,address,bytes)")[:4] + abi_encode(
        ["address", "address", "bytes"], [proxy, target, b""]
    )
    return Action(to_checksum_address(call.address), "ProxyAdmin", "upgradeAndCall", (proxy, target, "0x"), data)


def contract_address(name: str, deployment: Deployment | None, governance: Governance) -> ChecksumAddress:
    """Where the contract ``name`` lives: ours from the deployment record, the timelock from governance."""
    if name == TIMELOCK_CONTRACT:
        return governance.timelock
    if name not in DEPLOYABLE_CONTRACTS:
        raise InvalidInput(f"{name!r} is not a governed contract: choose {', '.join(_governed())}.")
    if deployment is None:
        raise DeploymentError("No deployment record on this chain: run `chainpass deploy --governor timelock`.")
    return deployment.address(name)


def _governed() -> tuple[str, ...]:
    return (*DEPLOYABLE_CONTRACTS, TIMELOCK_CONTRACT)


def call_action(chain: Chain, contract: str, address: str, function: str, args: Sequence[Any]) -> Action:
    """The action calling ``contract`` (at ``address``) ``.function(args)``; string arguments
    are read by the function's ABI types (addresses, numbers, true/false, hex bytes)."""
    if contract not in _governed():
        raise InvalidInput(f"{contract!r} is not a governed contract: choose {', '.join(_governed())}.")
    abi = load_artifact(contract).abi
    candidates = [e for e in abi if e.get("type") == "function" and e["name"] == function]
    writes = [e for e in candidates if e.get("stateMutability") not in ("view", "pure")]
    if not writes:
        names = sorted(
            {e["name"] for e in abi if e.get("type") == "function" and e.get("stateMutability") not in ("view", "pure")}
        )
        raise InvalidInput(
            f"{contract} has no function {function!r} that changes state: choose one of {', '.join(names)}."
        )
    matching = [e for e in writes if len(e["inputs"]) == len(args)]
    if not matching:
        wanted = " or ".join(str(len(e["inputs"])) for e in writes)
        raise InvalidInput(f"{contract}.{function} takes {wanted} arguments, not {len(args)}.")
    entry = matching[0]
    values = [_abi_value(arg, spec) for arg, spec in zip(args, entry["inputs"], strict=True)]
    types = [i["type"] for i in entry["inputs"]]
    selector = keccak(text=f"{function}({','.join(types)})")[:4]
    try:
        data = selector + abi_encode(types, values)
    except EncodingError as exc:
        raise InvalidInput(f"An argument does not fit {contract}.{function}({', '.join(types)}): {exc}") from None
    shown = tuple(("0x" + v.hex()) if isinstance(v, bytes) else v for v in values)
    return Action(to_checksum_address(address), contract, function, shown, data)


def _abi_value(value: Any, spec: Mapping[str, Any]) -> Any:
    kind, name = str(spec["type"]), spec.get("name") or "argument"
    text = str(value).strip()
    if kind == "address":
        return parse_address(text, name)
    if kind.startswith(("uint", "int")):
        enum = {"maxLevel": Level, "level": Level, "sector": Sector}.get(name)
        if enum is not None and not text.isdigit():
            return int(enum.parse(text))
        try:
            return int(text, 0)
        except ValueError:
            raise InvalidInput(f"{name} {value!r} is not a number.") from None
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise InvalidInput(f"{name} {value!r} is not true or false.")
        return text.lower() == "true"
    if kind.startswith("bytes"):
        try:
            raw = bytes.fromhex(text.removeprefix("0x"))
        except ValueError:
            raise InvalidInput(f"{name} {value!r} is not hex.") from None
        if kind != "bytes" and len(raw) != int(kind[5:]):
            raise InvalidInput(f"{name} must be {kind[5:]} bytes (0x and {2 * int(kind[5:])} hex digits).")
        return raw
    if kind == "string":
        return text
    raise InvalidInput(f"Arguments of type {kind} ({name}) cannot be given on the command line: use the library.")


def appoint_authority_action(registry: str, authority: str, max_level: Level | str) -> Action:
    """The action appointing ``authority`` in the registry at ``registry``, up to ``max_level``."""
    level = Level.parse(max_level)
    if level is Level.NONE:
        raise InvalidInput("An authority needs a maximum level: low, substantial or high.")
    address = parse_address(authority, "authority")
    data = keccak(text="appointAuthority(address,uint8)")[:4] + abi_encode(["address", "uint8"], [address, int(level)])
    return Action(
        parse_address(registry, "registry"), "IdentityRegistry", "appointAuthority", (address, level.label), data
    )


# ---------------------------------------------------------------------- proposals


class ProposalKind(Enum):
    """What the Safe transaction does on the timelock."""

    SCHEDULE = "schedule"
    CANCEL = "cancel"


@dataclass(frozen=True)
class SafeTx:
    """Safe 1.4.1's transaction, the fields its EIP-712 hash covers."""

    to: ChecksumAddress
    value: int
    data: bytes
    operation: int
    safe_tx_gas: int
    base_gas: int
    gas_price: int
    gas_token: ChecksumAddress
    refund_receiver: ChecksumAddress
    nonce: int

    def args(self) -> list[Any]:
        """The fields in the order of ``getTransactionHash`` and ``execTransaction``."""
        return [
            self.to,
            self.value,
            self.data,
            self.operation,
            self.safe_tx_gas,
            self.base_gas,
            self.gas_price,
            self.gas_token,
            self.refund_receiver,
            self.nonce,
        ]

    def typed_data(self, chain_id: int, safe: str) -> dict[str, Any]:
        """The ``eth_signTypedData_v4`` document owners sign."""
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "SafeTx": SAFE_TX_FIELDS,
            },
            "primaryType": "SafeTx",
            "domain": {"chainId": chain_id, "verifyingContract": to_checksum_address(safe)},
            "message": {
                "to": self.to,
                "value": self.value,
                "data": "0x" + self.data.hex(),
                "operation": self.operation,
                "safeTxGas": self.safe_tx_gas,
                "baseGas": self.base_gas,
                "gasPrice": self.gas_price,
                "gasToken": self.gas_token,
                "refundReceiver": self.refund_receiver,
                "nonce": self.nonce,
            },
        }


def safe_tx_hash(typed_data: dict[str, Any]) -> bytes:
    """The EIP-712 hash of a SafeTx document: what owners sign and the Safe checks."""
    message = encode_typed_data(full_message=typed_data)
    return keccak(b"\x19" + message.version + message.header + message.body)


@dataclass(frozen=True)
class Proposal:
    """A Safe transaction that schedules (or cancels) an action on the timelock, and the
    owners' signatures so far. Saved as a JSON file that travels from owner to owner."""

    chain_id: int
    safe: ChecksumAddress
    timelock: ChecksumAddress
    kind: ProposalKind
    action: Action
    #: The timelock operation's salt and predecessor (none: ZERO_HASH), and its delay.
    salt: bytes
    predecessor: bytes
    delay: int
    #: The Safe nonce the transaction is signed for.
    nonce: int
    #: The Safe's owners and threshold when proposed (each is checked again on submission).
    owners: tuple[ChecksumAddress, ...]
    threshold: int
    signatures: Mapping[ChecksumAddress, bytes] = field(default_factory=dict)

    @property
    def operation_id(self) -> bytes:
        """The timelock's id of the operation (``hashOperation``)."""
        encoded = abi_encode(
            ["address", "uint256", "bytes", "bytes32", "bytes32"],
            [self.action.target, self.action.value, self.action.data, self.predecessor, self.salt],
        )
        return keccak(encoded)

    def timelock_call(self) -> bytes:
        """What the Safe calls on the timelock: ``schedule(...)`` or ``cancel(id)``."""
        if self.kind is ProposalKind.CANCEL:
            return keccak(text="cancel(bytes32)")[:4] + abi_encode(["bytes32"], [self.operation_id])
        types = ["address", "uint256", "bytes", "bytes32", "bytes32", "uint256"]
        values = [self.action.target, self.action.value, self.action.data, self.predecessor, self.salt, self.delay]
        return keccak(text=f"schedule({','.join(types)})")[:4] + abi_encode(types, values)

    def execute_call(self) -> bytes:
        types = ["address", "uint256", "bytes", "bytes32", "bytes32"]
        values = [self.action.target, self.action.value, self.action.data, self.predecessor, self.salt]
        return keccak(text=f"execute({','.join(types)})")[:4] + abi_encode(types, values)

    def safe_tx(self) -> SafeTx:
        return SafeTx(self.timelock, 0, self.timelock_call(), CALL, 0, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS, self.nonce)

    def typed_data(self) -> dict[str, Any]:
        return self.safe_tx().typed_data(self.chain_id, self.safe)

    @property
    def safe_tx_hash(self) -> bytes:
        return safe_tx_hash(self.typed_data())

    @property
    def description(self) -> str:
        what = self.action.description
        return f"cancel the scheduled {what}" if self.kind is ProposalKind.CANCEL else what

    def signed_by(self) -> list[ChecksumAddress]:
        """The owners whose signature is in the file, in owner order."""
        return [o for o in self.owners if o in self.signatures]

    def missing(self) -> int:
        return max(0, self.threshold - len(self.signed_by()))

    def with_signature(self, signature: bytes) -> Proposal:
        """This proposal with ``signature`` added, checked: it must be an owner's over this SafeTx."""
        signer = recover_signer(self.typed_data(), signature)
        if signer not in self.owners:
            raise NotAnOwner(
                f"{signer} is not an owner of Safe {self.safe} (owners: {', '.join(self.owners)}): "
                "only owners' signatures count."
            )
        return replace(self, signatures={**self.signatures, signer: signature})

    def merged(self, other: Proposal) -> Proposal:
        """This proposal with the signatures of ``other``, a copy of the same proposal."""
        if other.safe_tx_hash != self.safe_tx_hash or other.operation_id != self.operation_id:
            raise InvalidInput(
                f"The proposals differ ({self.description} for Safe nonce {self.nonce}; {other.description} for "
                f"nonce {other.nonce}): only copies of one proposal can be merged."
            )
        merged = self
        for signature in other.signatures.values():
            merged = merged.with_signature(signature)
        return merged

    def packed_signatures(self) -> bytes:
        """The signatures as ``execTransaction`` takes them: 65 bytes each, by owner address, ascending."""
        return b"".join(self.signatures[o] for o in sorted(self.signatures, key=lambda a: int(a, 16)))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PROPOSAL_FORMAT,
            "kind": PROPOSAL_KIND,
            "description": self.description,
            "chain_id": self.chain_id,
            "safe": self.safe,
            "timelock": self.timelock,
            "timelock_call": self.kind.value,
            "action": self.action.to_json(),
            "salt": "0x" + self.salt.hex(),
            "predecessor": "0x" + self.predecessor.hex(),
            "delay": self.delay,
            "safe_nonce": self.nonce,
            "owners": list(self.owners),
            "threshold": self.threshold,
            "operation_id": "0x" + self.operation_id.hex(),
            "safe_tx_hash": "0x" + self.safe_tx_hash.hex(),
            "safe_tx": self.typed_data(),
            "signatures": {o: "0x" + self.signatures[o].hex() for o in self.signed_by()},
        }

    @classmethod
    def from_json(cls, data: Any) -> Proposal:
        """A proposal from its file's JSON; every signature and the recorded hashes are checked."""
        if not isinstance(data, dict) or data.get("kind") != PROPOSAL_KIND:
            raise InvalidInput("This is not a chainpass governance proposal (made by `chainpass governance propose`).")
        if data.get("format") != PROPOSAL_FORMAT:
            raise InvalidInput(
                f"The proposal's format {data.get('format')!r} is not {PROPOSAL_FORMAT}: upgrade chainpass."
            )
        try:
            proposal = cls(
                chain_id=int(data["chain_id"]),
                safe=to_checksum_address(data["safe"]),
                timelock=to_checksum_address(data["timelock"]),
                kind=ProposalKind(data["timelock_call"]),
                action=Action.from_json(data["action"]),
                salt=_bytes32(data["salt"]),
                predecessor=_bytes32(data["predecessor"]),
                delay=int(data["delay"]),
                nonce=int(data["safe_nonce"]),
                owners=tuple(to_checksum_address(o) for o in data["owners"]),
                threshold=int(data["threshold"]),
            )
            signatures = [bytes.fromhex(str(s).removeprefix("0x")) for s in dict(data.get("signatures", {})).values()]
            recorded_hash = str(data["safe_tx_hash"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                f"The proposal is damaged ({type(exc).__name__}: {exc}): ask for a fresh copy."
            ) from None
        if recorded_hash.lower() != "0x" + proposal.safe_tx_hash.hex():
            raise InvalidInput(
                "The proposal was altered: its fields do not give the Safe transaction hash it records. "
                "Ask the proposer for a fresh copy; sign nothing from this one."
            )
        for signature in signatures:
            proposal = proposal.with_signature(signature)
        return proposal


def _bytes32(text: Any) -> bytes:
    raw = bytes.fromhex(str(text).removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"{text!r} is not 32 bytes")
    return raw


def recover_signer(typed_data: dict[str, Any], signature: bytes) -> ChecksumAddress:
    """Who signed the SafeTx ``typed_data``; a malformed signature is refused."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise InvalidInput("A Safe owner's signature is 65 bytes ending in v 27 or 28 (an EIP-712 signature).")
    try:
        return to_checksum_address(
            Account.recover_message(encode_typed_data(full_message=typed_data), signature=signature)
        )
    except Exception as exc:  # eth-keys' BadSignature and friends
        raise InvalidInput(f"The signature does not recover to any account ({exc}).") from None


def read_proposal(path: Path) -> Proposal:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"The proposal file {path} does not exist.") from None
    except (IsADirectoryError, UnicodeDecodeError):
        raise InvalidInput(f"The proposal file {path} is not a text file.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The proposal file {path} is not JSON: {exc.msg} at line {exc.lineno}.") from None
    return Proposal.from_json(data)


def write_proposal(path: Path, proposal: Proposal) -> Path:
    """Write the proposal file atomically: a reader never sees half of it."""
    return write_json_atomic(path, proposal.to_json())


def propose(
    chain: Chain,
    governance: Governance,
    action: Action,
    *,
    delay: int | None = None,
    nonce: int | None = None,
    salt: bytes | None = None,
) -> Proposal:
    """A proposal to schedule ``action`` on the timelock, for the Safe's next nonce (or ``nonce``,
    to queue behind proposals not yet submitted), with the timelock's minimum delay (or ``delay``).

    The action is tried first as the timelock would make it: one the contract would refuse
    today is refused here, with the contract's reason.
    """
    _check_chain(chain, governance.chain_id)
    timelock = timelock_contract(chain, governance.timelock)
    min_delay = int(timelock.functions.getMinDelay().call())
    if delay is None:
        delay = min_delay
    elif delay < min_delay:
        raise InvalidInput(f"The timelock's minimum delay is {min_delay} s: a delay of {delay} s is too short.")
    elif delay > max(MAX_DELAY, min_delay):
        raise InvalidInput(f"A delay of {delay} s is longer than {MAX_DELAY} s (30 days): give a shorter one.")
    safe = safe_contract(chain, governance.safe)
    current = int(safe.functions.nonce().call())
    nonce = _pick_nonce(current, nonce)
    try:
        chain.w3.eth.call(
            {"from": governance.timelock, "to": action.target, "data": action.data, "value": Wei(action.value)}
        )
    except Exception as exc:
        raise _refusal(exc, f"{action.contract} would refuse {action.description} from the timelock") from None
    return Proposal(
        chain_id=chain.chain_id,
        safe=governance.safe,
        timelock=governance.timelock,
        kind=ProposalKind.SCHEDULE,
        action=action,
        salt=salt if salt is not None else os.urandom(32),
        predecessor=bytes(32),
        delay=delay,
        nonce=nonce,
        owners=tuple(to_checksum_address(o) for o in safe.functions.getOwners().call()),
        threshold=int(safe.functions.getThreshold().call()),
    )


def _pick_nonce(current: int, nonce: int | None) -> int:
    """``nonce``, or the Safe's next (``current``): never a used one, nor one far ahead."""
    if nonce is None:
        return current
    if nonce < current:
        raise InvalidInput(f"Safe nonce {nonce} is used already: the next is {current}.")
    if nonce > current + MAX_QUEUE:
        raise InvalidInput(
            f"Safe nonce {nonce} is far beyond the Safe's next ({current}): at most {current + MAX_QUEUE}."
        )
    return nonce


def cancel_action(chain: Chain, governance: Governance, scheduled: Proposal, *, nonce: int | None = None) -> Proposal:
    """A proposal for the Safe to cancel the operation ``scheduled`` put on the timelock (before it runs)."""
    _check_chain(chain, governance.chain_id)
    _check_same_governance(scheduled, governance)
    state = _operation_state(chain, governance, scheduled.operation_id)
    if state is not OperationState.WAITING and state is not OperationState.READY:
        raise GovernanceError(
            f"{scheduled.description} is not waiting on the timelock ({state.label}): nothing to cancel."
        )
    safe = safe_contract(chain, governance.safe)
    current = int(safe.functions.nonce().call())
    return replace(
        scheduled,
        kind=ProposalKind.CANCEL,
        nonce=_pick_nonce(current, nonce),
        owners=tuple(to_checksum_address(o) for o in safe.functions.getOwners().call()),
        threshold=int(safe.functions.getThreshold().call()),
        signatures={},
    )


def sign_proposal(proposal: Proposal, signer: Sender, chain: Chain | None = None) -> Proposal:
    """``proposal`` signed by ``signer``: a local account signs offline; a dev account of a
    node signs there (``chain``). A signer that is not an owner is refused before signing."""
    address = sender_address(signer)
    if address not in proposal.owners:
        raise NotAnOwner(
            f"{address} is not an owner of Safe {proposal.safe} (owners: {', '.join(proposal.owners)}): "
            "only owners sign its transactions."
        )
    if chain is not None:
        _check_chain(chain, proposal.chain_id)
        signature = chain.sign_typed_data(signer, proposal.typed_data())
    elif isinstance(signer, str):
        raise InvalidInput(f"{address} is a node's account: sign with a connection to that node.")
    else:
        signature = bytes(Account.sign_typed_data(signer.key, full_message=proposal.typed_data()).signature)
    return proposal.with_signature(signature)


# ---------------------------------------------------------------------- on chain


class OperationState(Enum):
    """The timelock's ``OperationState``, plus cancelled (which it forgets)."""

    UNSET = 0
    WAITING = 1
    READY = 2
    DONE = 3
    CANCELLED = 4

    @property
    def label(self) -> str:
        return {0: "not scheduled", 1: "waiting", 2: "ready", 3: "done", 4: "cancelled"}[self.value]


def _operation_state(chain: Chain, governance: Governance, operation_id: bytes) -> OperationState:
    timelock = timelock_contract(chain, governance.timelock)
    state = OperationState(int(timelock.functions.getOperationState(operation_id).call()))
    if state is OperationState.UNSET and _cancelled(chain, governance, operation_id):
        return OperationState.CANCELLED
    return state


def _cancelled(chain: Chain, governance: Governance, operation_id: bytes) -> bool:
    topic = "0x" + keccak(text="Cancelled(bytes32)").hex()
    logs = chain.w3.eth.get_logs(
        {
            "address": governance.timelock,
            "fromBlock": governance.block_number,
            "toBlock": "latest",
            "topics": [topic, "0x" + operation_id.hex()],
        }
    )
    return bool(logs)


@dataclass(frozen=True)
class ProposalStatus:
    """Where a proposal stands."""

    description: str
    #: collecting signatures, ready to submit, superseded, waiting, ready, done, cancelled.
    state: str
    signed_by: tuple[ChecksumAddress, ...]
    threshold: int
    missing: int
    safe_nonce: int
    operation_id: str
    safe_tx_hash: str
    #: When the timelock lets the action run (Unix time), once scheduled.
    ready_at: int | None
    now: int

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "state": self.state,
            "signed_by": list(self.signed_by),
            "threshold": self.threshold,
            "missing_signatures": self.missing,
            "safe_nonce": self.safe_nonce,
            "operation_id": self.operation_id,
            "safe_tx_hash": self.safe_tx_hash,
            "ready_at": self.ready_at,
            "chain_time": self.now,
        }


def proposal_status(chain: Chain, governance: Governance, proposal: Proposal) -> ProposalStatus:
    _check_chain(chain, proposal.chain_id)
    _check_same_governance(proposal, governance)
    timelock = timelock_contract(chain, governance.timelock)
    op_state = _operation_state(chain, governance, proposal.operation_id)
    timestamp = int(timelock.functions.getTimestamp(proposal.operation_id).call())
    executed = _safe_tx_executed(chain, governance, proposal)
    if proposal.kind is ProposalKind.CANCEL:
        state = "cancelled" if op_state is OperationState.CANCELLED else None
    else:
        state = {
            OperationState.WAITING: "waiting",
            OperationState.READY: "ready",
            OperationState.DONE: "done",
            OperationState.CANCELLED: "cancelled",
        }.get(op_state)
    if state is None:
        if executed or int(safe_contract(chain, governance.safe).functions.nonce().call()) > proposal.nonce:
            state = "superseded"
        else:
            state = "collecting signatures" if proposal.missing() else "ready to submit"
    return ProposalStatus(
        description=proposal.description,
        state=state,
        signed_by=tuple(proposal.signed_by()),
        threshold=proposal.threshold,
        missing=proposal.missing(),
        safe_nonce=proposal.nonce,
        operation_id="0x" + proposal.operation_id.hex(),
        safe_tx_hash="0x" + proposal.safe_tx_hash.hex(),
        ready_at=timestamp if timestamp > 1 else None,
        now=chain.latest_timestamp(),
    )


def _safe_tx_executed(chain: Chain, governance: Governance, proposal: Proposal) -> bool:
    topic = "0x" + keccak(text="ExecutionSuccess(bytes32,uint256)").hex()
    logs = chain.w3.eth.get_logs(
        {"address": governance.safe, "fromBlock": governance.block_number, "toBlock": "latest", "topics": [topic]}
    )
    return any(bytes(log["data"])[:32] == proposal.safe_tx_hash for log in logs)


def submit(chain: Chain, governance: Governance, proposal: Proposal, sender: Sender) -> TxReceipt:
    """Send the Safe transaction (anyone may send it; the owners' signatures authorise it).

    Refused before sending: another chain or Safe; a Safe nonce that moved on; fewer valid
    signatures of current owners than the threshold; a call the timelock would refuse.
    """
    _check_chain(chain, proposal.chain_id)
    _check_same_governance(proposal, governance)
    safe = safe_contract(chain, governance.safe)
    current = int(safe.functions.nonce().call())
    if proposal.nonce != current:
        if proposal.nonce < current:
            raise GovernanceError(
                f"The Safe has used nonce {proposal.nonce} already (its next is {current}): this proposal was "
                "submitted, or another went first. See `chainpass governance status`; propose afresh if needed."
            )
        raise GovernanceError(
            f"This proposal is for Safe nonce {proposal.nonce}, but the Safe's next is {current}: submit the "
            "proposals before it first."
        )
    owners = [to_checksum_address(o) for o in safe.functions.getOwners().call()]
    threshold = int(safe.functions.getThreshold().call())
    valid = {o: s for o, s in proposal.signatures.items() if o in owners}
    if len(valid) < threshold:
        still = [o for o in owners if o not in valid]
        raise NotEnoughSignatures(
            f"{len(valid)} of the {threshold} owner signatures the Safe needs are here "
            f"({', '.join(valid) or 'none'}): {threshold - len(valid)} more from {', '.join(still)} "
            "(`chainpass governance sign`)."
        )
    signed = replace(proposal, signatures=valid)
    expected_hash = bytes(safe.functions.getTransactionHash(*proposal.safe_tx().args()).call())
    if expected_hash != proposal.safe_tx_hash:
        raise GovernanceError("The Safe hashes this transaction differently: is it Safe 1.4.1? Nothing was sent.")
    try:  # the timelock call as the Safe will make it: its own reason, not the Safe's GS013
        chain.w3.eth.call({"from": governance.safe, "to": governance.timelock, "data": proposal.timelock_call()})
    except Exception as exc:
        raise _refusal(
            exc, f"The timelock would refuse to {proposal.kind.value} {proposal.action.description}"
        ) from None
    call = safe.functions.execTransaction(*proposal.safe_tx().args()[:-1], signed.packed_signatures())
    try:
        return chain.transact(call, sender)
    except ChainpassError as exc:
        raise _safe_error(exc) from None


def execute(chain: Chain, governance: Governance, proposal: Proposal, sender: Sender) -> TxReceipt:
    """Run the scheduled action once the delay has passed; anyone may (the executor role is open)."""
    _check_chain(chain, proposal.chain_id)
    _check_same_governance(proposal, governance)
    if proposal.kind is ProposalKind.CANCEL:
        raise InvalidInput("A cancellation takes effect when it is submitted: there is nothing to execute.")
    state = _operation_state(chain, governance, proposal.operation_id)
    if state is OperationState.WAITING:
        ready_at = int(
            timelock_contract(chain, governance.timelock).functions.getTimestamp(proposal.operation_id).call()
        )
        now = chain.latest_timestamp()
        raise NotReady(
            f"{proposal.description} is scheduled but not ready: the timelock lets it run at {_iso(ready_at)} "
            f"(chain time is {_iso(now)}, {ready_at - now} s to go). Execute it then.",
            ready_at,
        )
    if state is not OperationState.READY:
        hint = {
            OperationState.UNSET: f"it is not scheduled yet: {proposal.missing()} signature(s) missing, then "
            "`chainpass governance submit`",
            OperationState.DONE: "it has run already",
            OperationState.CANCELLED: "the Safe cancelled it",
        }[state]
        raise GovernanceError(f"{proposal.description} cannot run: {hint}.")
    timelock = timelock_contract(chain, governance.timelock)
    call = timelock.functions.execute(
        proposal.action.target, proposal.action.value, proposal.action.data, proposal.predecessor, proposal.salt
    )
    return chain.transact(call, sender)


def _check_chain(chain: Chain, chain_id: int) -> None:
    if chain.chain_id != chain_id:
        raise ChainIdMismatch(
            f"The proposal is for chain {chain_id}, but the node is chain {chain.chain_id}: use that chain's node."
        )


def _check_same_governance(proposal: Proposal, governance: Governance) -> None:
    if (proposal.safe, proposal.timelock) != (governance.safe, governance.timelock):
        raise ChainIdMismatch(
            f"The proposal is for Safe {proposal.safe} and timelock {proposal.timelock}, but this chain's governance "
            f"is Safe {governance.safe} and timelock {governance.timelock}."
        )


def _iso(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# ---------------------------------------------------------------------- refusals

#: The timelock's and AccessControl's custom errors, by selector.
_TIMELOCK_ERRORS = {
    keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})")[:4]: e
    for e in load_artifact(TIMELOCK_CONTRACT).abi
    if e["type"] == "error"
}


def _refusal(exc: Exception, what: str) -> ChainpassError:
    """``exc`` from a call ``what`` describes, as a sentence: our contracts' errors by
    :mod:`chainpass.reverts`, the timelock's by name, the Safe's by code."""
    data = revert_data_from_exception(exc)
    if data:
        ours = decode_revert(data)
        if ours is not None:
            return ContractRevert(f"{what}: {ours}", ours.error, ours.error_args)
        entry = _TIMELOCK_ERRORS.get(data[:4])
        if entry is not None:
            values = abi_decode([i["type"] for i in entry["inputs"]], data[4:])
            shown = ", ".join(
                f"{i['name']}={('0x' + v.hex()) if isinstance(v, bytes) else v}"
                for i, v in zip(entry["inputs"], values, strict=True)
            )
            return ContractRevert(f"{what}: {entry['name']}({shown}).", entry["name"], {})
        reason = _error_string(data)
        if reason is not None:
            return ContractRevert(f"{what}: {SAFE_ERRORS.get(reason, reason)} ({reason}).", reason, {})
    if isinstance(exc, ChainpassError):
        return exc
    return TransactionFailed(f"{what}: {exc}")


def _error_string(data: bytes) -> str | None:
    if data[:4] != keccak(text="Error(string)")[:4]:
        return None
    try:
        return str(abi_decode(["string"], data[4:])[0])
    except Exception:
        return None


def _safe_error(exc: ChainpassError) -> ChainpassError:
    text = str(exc)
    for code, meaning in SAFE_ERRORS.items():
        if code in text:
            return ContractRevert(f"The Safe refused the transaction: {meaning} ({code}).", code, {})
    return exc
