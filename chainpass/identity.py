"""Client for the `IdentityRegistry` contract: govern, verify, check, disclose, audit.

Records are frozen dataclasses; enums mirror the contract's. Every method that
changes state takes ``sender`` (an account the chain can send from) and returns once
the transaction is mined; a refusal raises :class:`~chainpass.errors.ContractRevert`
with a sentence, before any gas is spent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Any, Self

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.types import BlockIdentifier, TxReceipt

from chainpass.artifacts import event_topic, load_artifact
from chainpass.attributes import Credential, Disclosure
from chainpass.chain import Chain, parse_address
from chainpass.deployment import Deployment
from chainpass.errors import InvalidInput

CONTRACT_NAME = "IdentityRegistry"


class _Named(IntEnum):
    """An enum that parses from and prints as its lower-case name."""

    @classmethod
    def parse(cls, text: str | int) -> Self:
        if isinstance(text, int) or (isinstance(text, str) and text.isdigit()):
            try:
                return cls(int(text))
            except ValueError:
                pass
        else:
            for member in cls:
                if member.label == str(text).strip().lower().replace("-", "_").replace(" ", "_"):
                    return member
        choices = ", ".join(m.label for m in cls if m.value or cls is Standing)
        raise InvalidInput(f"{text!r} is not a valid {cls.__name__.lower()}: choose one of {choices}.")

    @property
    def label(self) -> str:
        return self.name.lower()


class Level(_Named):
    """Assurance level of a verification, as in eIDAS."""

    NONE = 0
    LOW = 1
    SUBSTANTIAL = 2
    HIGH = 3


class Sector(_Named):
    NONE = 0
    GOVERNMENT = 1
    BANK = 2
    HOSPITAL = 3
    HOTEL = 4
    COURIER = 5
    OTHER = 6


class Status(_Named):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class Standing(_Named):
    """Whether a verification is in force now and, if not, why not."""

    NEVER_VERIFIED = 0
    VALID = 1
    SUSPENDED = 2
    REVOKED = 3
    EXPIRED = 4
    ISSUER_REMOVED = 5


class SuspensionReason(_Named):
    """The reason codes the client gives names to (the contract takes any non-zero code)."""

    LOST_DOCUMENT = 1
    SUSPECTED_FRAUD = 2
    HOLDER_REQUEST = 3
    UNDER_REVIEW = 4
    COURT_ORDER = 5
    OTHER = 255


@dataclass(frozen=True)
class Authority:
    address: ChecksumAddress
    active: bool
    max_level: Level


@dataclass(frozen=True)
class RelyingParty:
    address: ChecksumAddress
    active: bool
    sector: Sector


@dataclass(frozen=True)
class IdentityStatus:
    """A holder's stored verification and its standing now."""

    holder: ChecksumAddress
    standing: Standing
    status: Status
    level: Level
    issuer: ChecksumAddress | None
    expires_at: int
    commitment: bytes
    suspension_reason: int

    @property
    def valid(self) -> bool:
        return self.standing is Standing.VALID

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "valid": self.valid,
            "standing": self.standing.label,
            "status": self.status.label,
            "level": self.level.label,
            "issuer": self.issuer,
            "expires_at": self.expires_at,
            "expires": _iso(self.expires_at),
            "commitment": "0x" + self.commitment.hex(),
            "suspension_reason": reason_label(self.suspension_reason),
        }


@dataclass(frozen=True)
class CheckResult:
    """What a relying party learnt from a recorded check."""

    holder: ChecksumAddress
    relying_party: ChecksumAddress
    standing: Standing
    level: Level
    issuer: ChecksumAddress | None
    expires_at: int
    tx_hash: str
    block_number: int

    @property
    def valid(self) -> bool:
        return self.standing is Standing.VALID

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "relying_party": self.relying_party,
            "valid": self.valid,
            "standing": self.standing.label,
            "level": self.level.label,
            "issuer": self.issuer,
            "expires_at": self.expires_at,
            "expires": _iso(self.expires_at),
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
        }


@dataclass(frozen=True)
class DisclosureCheck:
    """A disclosure that matched the holder's on-chain commitment, and the holder's standing."""

    holder: ChecksumAddress
    attributes: dict[str, str]
    standing: Standing

    @property
    def valid(self) -> bool:
        return self.standing is Standing.VALID

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "valid": self.valid,
            "standing": self.standing.label,
            "attributes": self.attributes,
        }


@dataclass(frozen=True)
class HistoryEntry:
    """One event in a holder's history, rebuilt from the contract's logs."""

    block_number: int
    log_index: int
    tx_hash: str
    event: str
    actor: ChecksumAddress | None
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "block_number": self.block_number,
            "log_index": self.log_index,
            "tx_hash": self.tx_hash,
            "event": self.event,
            "actor": self.actor,
            **self.details,
        }


#: The events of a holder's history, and which argument is the actor.
HOLDER_EVENTS = {
    "HolderVerified": "issuer",
    "HolderReverified": "issuer",
    "HolderSuspended": "issuer",
    "HolderReinstated": "issuer",
    "HolderRevoked": "issuer",
    "HolderChecked": "relyingParty",
}
#: Blocks per log query: providers refuse very wide ranges.
LOG_CHUNK = 2_000


def reason_label(code: int) -> str | None:
    if code == 0:
        return None
    try:
        return SuspensionReason(code).label
    except ValueError:
        return f"code {code}"


def _iso(timestamp: int) -> str | None:
    if not timestamp:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat().replace("+00:00", "Z")


def _optional_address(value: str) -> ChecksumAddress | None:
    address = to_checksum_address(value)
    return None if int(address, 16) == 0 else address


class IdentityRegistry:
    """A deployed `IdentityRegistry` on a :class:`~chainpass.chain.Chain`."""

    def __init__(self, chain: Chain, address: str, *, first_block: int = 0) -> None:
        self.chain = chain
        self.address = parse_address(address, "registry address")
        self.first_block = first_block
        self.contract: Contract = chain.contract(load_artifact(CONTRACT_NAME), self.address)

    @classmethod
    def from_deployment(cls, chain: Chain, deployment: Deployment) -> IdentityRegistry:
        record = deployment.contracts[CONTRACT_NAME]
        return cls(chain, record.address, first_block=record.block_number)

    def _send(self, function: str, sender: str, *args: Any) -> TxReceipt:
        return self.chain.transact(getattr(self.contract.functions, function)(*args), sender)

    # ------------------------------------------------------------ governance

    def governor(self) -> ChecksumAddress:
        return to_checksum_address(self.contract.functions.governor().call())

    def pending_governor(self) -> ChecksumAddress | None:
        return _optional_address(self.contract.functions.pendingGovernor().call())

    def transfer_governance(self, new_governor: str, *, sender: str) -> TxReceipt:
        return self._send("transferGovernance", sender, parse_address(new_governor, "new governor"))

    def accept_governance(self, *, sender: str) -> TxReceipt:
        return self._send("acceptGovernance", sender)

    def appoint_authority(self, authority: str, max_level: Level | str, *, sender: str) -> TxReceipt:
        level = Level.parse(max_level)
        if level is Level.NONE:
            raise InvalidInput("An authority needs a maximum level: low, substantial or high.")
        return self._send("appointAuthority", sender, parse_address(authority, "authority"), int(level))

    def remove_authority(self, authority: str, *, sender: str) -> TxReceipt:
        return self._send("removeAuthority", sender, parse_address(authority, "authority"))

    def appoint_relying_party(self, relying_party: str, sector: Sector | str, *, sender: str) -> TxReceipt:
        parsed = Sector.parse(sector)
        if parsed is Sector.NONE:
            raise InvalidInput(
                "A relying party needs a sector: government, bank, hospital, hotel, courier, other."
            )
        return self._send(
            "appointRelyingParty", sender, parse_address(relying_party, "relying party"), int(parsed)
        )

    def remove_relying_party(self, relying_party: str, *, sender: str) -> TxReceipt:
        return self._send("removeRelyingParty", sender, parse_address(relying_party, "relying party"))

    def authority(self, account: str) -> Authority:
        active, level = self.contract.functions.authorityOf(parse_address(account, "authority")).call()
        return Authority(to_checksum_address(account), bool(active), Level(level))

    def relying_party(self, account: str) -> RelyingParty:
        address = parse_address(account, "relying party")
        active, sector = self.contract.functions.relyingPartyOf(address).call()
        return RelyingParty(to_checksum_address(account), bool(active), Sector(sector))

    # ----------------------------------------------------------- verification

    def verify(
        self, credential: Credential, level: Level | str, expires_at: int, *, sender: str
    ) -> TxReceipt:
        """Record that ``sender`` (an authority) verified ``credential``'s holder in person."""
        return self._send(
            "verify",
            sender,
            credential.holder,
            credential.commitment,
            int(self._grant_level(level)),
            expires_at,
        )

    def reverify(
        self, credential: Credential, level: Level | str, expires_at: int, *, sender: str
    ) -> TxReceipt:
        """Renew or update the verification of ``credential``'s holder."""
        return self._send(
            "reverify",
            sender,
            credential.holder,
            credential.commitment,
            int(self._grant_level(level)),
            expires_at,
        )

    def suspend(self, holder: str, reason: SuspensionReason | str | int, *, sender: str) -> TxReceipt:
        code = SuspensionReason.parse(reason) if not isinstance(reason, int) else reason
        if not 0 < int(code) < 256:
            raise InvalidInput(f"Suspension reason code {int(code)} must be between 1 and 255.")
        return self._send("suspend", sender, parse_address(holder, "holder"), int(code))

    def reinstate(self, holder: str, *, sender: str) -> TxReceipt:
        return self._send("reinstate", sender, parse_address(holder, "holder"))

    def revoke(self, holder: str, *, sender: str) -> TxReceipt:
        return self._send("revoke", sender, parse_address(holder, "holder"))

    @staticmethod
    def _grant_level(level: Level | str) -> Level:
        parsed = Level.parse(level)
        if parsed is Level.NONE:
            raise InvalidInput("A verification needs a level: low, substantial or high.")
        return parsed

    # ----------------------------------------------------------------- reads

    def status(self, holder: str, *, block: BlockIdentifier = "latest") -> IdentityStatus:
        """The holder's stored verification and its standing, read without an audit trail."""
        address = parse_address(holder, "holder")
        commitment, issuer, expires_at, level, status, reason = self.contract.functions.identityOf(
            address
        ).call(block_identifier=block)
        standing = self.contract.functions.standingOf(address).call(block_identifier=block)
        return IdentityStatus(
            holder=address,
            standing=Standing(standing),
            status=Status(status),
            level=Level(level),
            issuer=_optional_address(issuer),
            expires_at=int(expires_at),
            commitment=bytes(commitment),
            suspension_reason=int(reason),
        )

    def check(self, holder: str, *, sender: str) -> CheckResult:
        """Check ``holder`` as relying party ``sender``; the check joins the holder's audit trail."""
        address = parse_address(holder, "holder")
        receipt = self._send("check", sender, address)
        (event,) = self.contract.events.HolderChecked().process_receipt(receipt)
        block = int(receipt["blockNumber"])
        status = self.status(address, block=block)
        return CheckResult(
            holder=address,
            relying_party=to_checksum_address(sender),
            standing=Standing(event["args"]["standing"]),
            level=status.level,
            issuer=status.issuer,
            expires_at=status.expires_at,
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=block,
        )

    def verify_disclosure(self, disclosure: Disclosure) -> DisclosureCheck:
        """Check a holder's disclosure offline against the commitment on chain.

        Raises :class:`~chainpass.errors.DisclosureInvalid` if any attribute was altered
        or the disclosure was made for another commitment; otherwise returns the revealed
        attributes with the holder's standing (which may still be not valid).
        """
        status = self.status(disclosure.holder)
        disclosure.check_against(status.commitment)
        return DisclosureCheck(disclosure.holder, disclosure.values(), status.standing)

    def verify_disclosure_on_chain(self, disclosure: Disclosure) -> bool:
        """Ask the contract itself (`verifyAttribute`, a view) to check every attribute."""
        return all(
            self.contract.functions.verifyAttribute(
                disclosure.holder, a.key, a.value, a.salt, list(a.proof)
            ).call()
            for a in disclosure.attributes
        )

    # --------------------------------------------------------------- history

    def history(self, holder: str, *, to_block: int | None = None) -> list[HistoryEntry]:
        """Every event about ``holder``, oldest first, rebuilt from logs alone.

        Logs are queried by the holder's topic, from the registry's deployment block
        in chunks of :data:`LOG_CHUNK` blocks.
        """
        address = parse_address(holder, "holder")
        holder_topic = "0x" + address[2:].lower().rjust(64, "0")
        last = self.chain.w3.eth.block_number if to_block is None else to_block
        entries: list[HistoryEntry] = []
        for start in range(self.first_block, last + 1, LOG_CHUNK):
            logs = self.chain.w3.eth.get_logs(
                {
                    "address": self.address,
                    "fromBlock": start,
                    "toBlock": min(start + LOG_CHUNK - 1, last),
                    "topics": [None, holder_topic],
                }
            )
            entries.extend(self._entry(log) for log in logs if bytes(log["topics"][0]) in self._holder_events)
        return sorted(entries, key=lambda e: (e.block_number, e.log_index))

    def checks_of(self, holder: str) -> list[HistoryEntry]:
        """Who looked ``holder`` up, and what they learnt: the holder's audit trail."""
        return [e for e in self.history(holder) if e.event == "HolderChecked"]

    @cached_property
    def _holder_events(self) -> dict[bytes, tuple[str, Any]]:
        """topic0 -> (event name, web3 event) for the events of a holder's history."""
        return {
            event_topic(load_artifact(CONTRACT_NAME).abi, name): (name, getattr(self.contract.events, name)())
            for name in HOLDER_EVENTS
        }

    def _entry(self, log: Any) -> HistoryEntry:
        name, event = self._holder_events[bytes(log["topics"][0])]
        args = dict(event.process_log(log)["args"])
        actor = to_checksum_address(args.pop(HOLDER_EVENTS[name]))
        args.pop("holder")
        return HistoryEntry(
            block_number=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            event=name,
            actor=actor,
            details=_describe_args(args),
        )


def _describe_args(args: dict[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {}
    for key, value in args.items():
        if key == "level":
            described[key] = Level(value).label
        elif key == "standing":
            described[key] = Standing(value).label
        elif key == "reason":
            described[key] = reason_label(value)
        elif key == "expiresAt":
            described["expires"] = _iso(value)
        elif isinstance(value, bytes):
            described[key] = "0x" + value.hex()
        else:
            described[key] = value
    return described
