"""Client for the `IdentityRegistry` contract: govern, verify, check, disclose, audit.

Records are frozen dataclasses; enums mirror the contract's. Every method that
changes state takes ``sender`` (an account the chain can send from) and returns once
the transaction is mined; a refusal raises :class:`~chainpass.errors.ContractRevert`
with a sentence, before any gas is spent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eth_abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3.types import BlockIdentifier, TxReceipt

from chainpass.artifacts import event_topic, load_artifact
from chainpass.attributes import Credential, Disclosure
from chainpass.chain import Sender, parse_address, sender_address
from chainpass.contract_client import ContractClient
from chainpass.enums import Level, Sector, Standing, Status, SuspensionReason
from chainpass.errors import InvalidInput
from chainpass.records import FLATTEN, JsonRecord, iso, timestamp
from chainpass.signatures import ACTIONS, DOMAIN_NAME, Domain, SignedAction, TypedAction, is_high_s

CONTRACT_NAME = "IdentityRegistry"


@dataclass(frozen=True)
class Authority:
    #: The authority's id: the account first appointed (holders name it as their issuer).
    address: ChecksumAddress
    active: bool
    max_level: Level
    #: The key it acts with now (its id until the governor rotates it); None if never appointed.
    signing_key: ChecksumAddress | None = None
    #: The authority acting for its holders while it is removed.
    successor: ChecksumAddress | None = None
    #: The last window the governor declared its (retired) key compromised, or (0, 0).
    compromised_since: int = 0
    compromised_until: int = 0


@dataclass(frozen=True)
class SuspensionNote(JsonRecord):
    """What the issuer keeps in its case file when it suspends a holder: the reason and the
    salt. The chain sees only ``commitment``, in the suspending transaction's input (see
    :meth:`IdentityRegistry.suspension_commitment`), which proves later, to whoever is shown
    the note, which reason was given and when."""

    holder: ChecksumAddress
    reason: SuspensionReason
    salt: bytes
    commitment: bytes

    @classmethod
    def make(cls, holder: str, reason: SuspensionReason | str | int, salt: bytes | None = None) -> SuspensionNote:
        address = parse_address(holder, "holder")
        parsed = SuspensionReason.parse(reason)
        salt = os.urandom(32) if salt is None else salt
        if len(salt) != 32:
            raise InvalidInput("A suspension salt is 32 bytes.")
        return cls(address, parsed, salt, reason_commitment(address, parsed, salt))


def reason_commitment(holder: str, reason: SuspensionReason, salt: bytes) -> bytes:
    """keccak256(abi.encode(salt, holder, reason label)): what the chain sees of a suspension's reason."""
    return keccak(abi_encode(["bytes32", "address", "string"], [salt, parse_address(holder, "holder"), reason.label]))


@dataclass(frozen=True)
class RelyingParty:
    address: ChecksumAddress
    active: bool
    sector: Sector


@dataclass(frozen=True)
class IdentityStatus(JsonRecord):
    """A holder's stored verification and its standing now."""

    JSON_PROPERTIES = ("valid",)

    holder: ChecksumAddress
    standing: Standing
    status: Status
    level: Level
    issuer: ChecksumAddress | None
    expires_at: int = field(metadata=timestamp("expires"))
    commitment: bytes
    #: Unix time of the last change of status (verification, suspension, ...).
    changed_at: int = field(metadata=timestamp("changed"))
    #: The key nonce the holder's next rotation or cancellation message must carry.
    nonce: int

    @property
    def valid(self) -> bool:
        return self.standing is Standing.VALID


@dataclass(frozen=True)
class CheckResult(JsonRecord):
    """What a relying party learnt from a recorded check."""

    JSON_PROPERTIES = ("valid",)

    holder: ChecksumAddress
    relying_party: ChecksumAddress
    standing: Standing
    level: Level
    issuer: ChecksumAddress | None
    expires_at: int = field(metadata=timestamp("expires"))
    tx_hash: str
    block_number: int

    @property
    def valid(self) -> bool:
        return self.standing is Standing.VALID


@dataclass(frozen=True)
class DisclosureCheck(JsonRecord):
    """A disclosure that matched the holder's on-chain commitment, and the holder's standing."""

    JSON_PROPERTIES = ("valid",)

    holder: ChecksumAddress
    attributes: dict[str, str]
    standing: Standing

    @property
    def valid(self) -> bool:
        return self.standing is Standing.VALID


@dataclass(frozen=True)
class Recovery(JsonRecord):
    """A pending move of a lost wallet's identity to a new wallet."""

    JSON_PROPERTIES = ("pending",)

    holder: ChecksumAddress
    new_holder: ChecksumAddress | None
    ready_at: int = field(metadata=timestamp("ready"))

    @property
    def pending(self) -> bool:
        return self.new_holder is not None


@dataclass(frozen=True)
class HistoryEntry(JsonRecord):
    """One event in a holder's history, rebuilt from the contract's logs."""

    block_number: int
    log_index: int
    tx_hash: str
    event: str
    #: The wallet the event is about (an earlier wallet for history carried over by a move).
    holder: ChecksumAddress
    #: Who acted (issuer, relying party, ...), or None for the holder's own actions.
    actor: ChecksumAddress | None
    details: dict[str, Any] = field(metadata=FLATTEN)


#: The events of a holder's history, and which argument is the actor.
HOLDER_EVENTS: dict[str, str | None] = {
    "HolderVerified": "issuer",
    "HolderReverified": "issuer",
    "HolderSuspended": "issuer",
    "HolderReinstated": "issuer",
    "HolderRevoked": "issuer",
    "HolderRestored": "issuer",
    "HolderChecked": "relyingParty",
    "ConsentGranted": None,
    "ConsentWithdrawn": None,
    "SignaturesCancelled": None,
    "HolderRotated": None,
    "RecoveryRequested": "issuer",
    "RecoveryCancelled": "by",
    "HolderRecovered": "issuer",
}
#: The events that move an identity to a new wallet (indexed as their second topic).
MOVE_EVENTS = ("HolderRotated", "HolderRecovered")


def _optional_address(value: str) -> ChecksumAddress | None:
    address = to_checksum_address(value)
    return None if int(address, 16) == 0 else address


class IdentityRegistry(ContractClient):
    """A deployed `IdentityRegistry` on a :class:`~chainpass.chain.Chain`."""

    CONTRACT_NAME = CONTRACT_NAME
    DOMAIN_NAME = DOMAIN_NAME

    # ------------------------------------------------------------ governance

    def pending_governor(self) -> ChecksumAddress | None:
        return _optional_address(self.contract.functions.pendingGovernor().call())

    def transfer_governance(self, new_governor: str, *, sender: Sender) -> TxReceipt:
        return self.send("transferGovernance", sender, parse_address(new_governor, "new governor"))

    def accept_governance(self, *, sender: Sender) -> TxReceipt:
        return self.send("acceptGovernance", sender)

    def appoint_authority(self, authority: str, max_level: Level | str, *, sender: Sender) -> TxReceipt:
        level = Level.parse(max_level)
        if level is Level.NONE:
            raise InvalidInput("An authority needs a maximum level: low, substantial or high.")
        return self.send("appointAuthority", sender, parse_address(authority, "authority"), int(level))

    def remove_authority(self, authority: str, *, sender: Sender) -> TxReceipt:
        return self.send("removeAuthority", sender, parse_address(authority, "authority"))

    def rotate_authority_key(self, authority: str, new_key: str, *, sender: Sender) -> TxReceipt:
        """The governor gives ``authority`` a new signing key; its holders are untouched."""
        return self.send(
            "rotateAuthorityKey", sender, parse_address(authority, "authority"), parse_address(new_key, "new key")
        )

    def hand_over_authority(self, removed: str, successor: str, *, sender: Sender) -> TxReceipt:
        """The governor hands the holders of the removed ``removed`` to ``successor`` (one transaction)."""
        return self.send(
            "handOverAuthority",
            sender,
            parse_address(removed, "removed authority"),
            parse_address(successor, "successor"),
        )

    def declare_compromise(self, authority: str, since: int, *, sender: Sender) -> TxReceipt:
        """The governor declares ``authority``'s retired key compromised from ``since``."""
        if not 0 <= since < 2**40:
            raise InvalidInput(
                f"A compromise window starts at a Unix time (0 to {2**40 - 1}, the contract's uint40), not {since}."
            )
        return self.send("declareCompromise", sender, parse_address(authority, "authority"), since)

    def authority_of_key(self, key: str) -> ChecksumAddress | None:
        """The authority ``key`` signs for now, if any."""
        return _optional_address(self.contract.functions.authorityOfKey(parse_address(key, "key")).call())

    def appoint_relying_party(self, relying_party: str, sector: Sector | str, *, sender: Sender) -> TxReceipt:
        parsed = Sector.parse(sector)
        if parsed is Sector.NONE:
            raise InvalidInput("A relying party needs a sector: government, bank, hospital, hotel, courier, other.")
        return self.send("appointRelyingParty", sender, parse_address(relying_party, "relying party"), int(parsed))

    def remove_relying_party(self, relying_party: str, *, sender: Sender) -> TxReceipt:
        return self.send("removeRelyingParty", sender, parse_address(relying_party, "relying party"))

    def authority(self, account: str) -> Authority:
        address = parse_address(account, "authority")
        active, level, key, successor, since, until = self.contract.functions.authorityOf(address).call()
        return Authority(
            address, bool(active), Level(level), _optional_address(key), _optional_address(successor), since, until
        )

    def relying_party(self, account: str) -> RelyingParty:
        address = parse_address(account, "relying party")
        active, sector = self.contract.functions.relyingPartyOf(address).call()
        return RelyingParty(to_checksum_address(account), bool(active), Sector(sector))

    # ----------------------------------------------------------- verification

    def verify(self, credential: Credential, level: Level | str, expires_at: int, *, sender: Sender) -> TxReceipt:
        """Record that ``sender`` (an authority) verified ``credential``'s holder in person."""
        return self.send(
            "verify",
            sender,
            credential.holder,
            credential.commitment,
            int(self._grant_level(level)),
            expires_at,
        )

    def reverify(self, credential: Credential, level: Level | str, expires_at: int, *, sender: Sender) -> TxReceipt:
        """Renew or update the verification of ``credential``'s holder."""
        return self.send(
            "reverify",
            sender,
            credential.holder,
            credential.commitment,
            int(self._grant_level(level)),
            expires_at,
        )

    def suspend(
        self, holder: str, reason: SuspensionNote | SuspensionReason | str | int, *, sender: Sender
    ) -> TxReceipt:
        """Suspend ``holder``. Only a salted commitment to the reason goes on chain: pass a
        :class:`SuspensionNote` (and keep it) to be able to show the reason later; a bare
        reason gets a random salt that is not kept."""
        note = reason if isinstance(reason, SuspensionNote) else SuspensionNote.make(holder, reason)
        address = parse_address(holder, "holder")
        if note.holder != address:
            raise InvalidInput(f"This suspension note is for {note.holder}, not {address}.")
        return self.send("suspend", sender, address, note.commitment)

    def suspension_commitment(self, tx_hash: str | bytes) -> bytes:
        """The reason commitment a suspending transaction carried in its input (to check a
        :class:`SuspensionNote` against)."""
        tx = self.chain.w3.eth.get_transaction(HexBytes(tx_hash))
        function, args = self.contract.decode_function_input(tx["input"])
        if function.fn_name != "suspend" or tx["to"] != self.address:
            raise InvalidInput(f"Transaction {HexBytes(tx_hash).to_0x_hex()} is not a suspension by this registry.")
        return bytes(args["reasonCommitment"])

    def restore(self, holder: str, *, sender: Sender) -> TxReceipt:
        """Undo a suspension or revocation made with a key the governor declared compromised."""
        return self.send("restore", sender, parse_address(holder, "holder"))

    def reinstate(self, holder: str, *, sender: Sender) -> TxReceipt:
        return self.send("reinstate", sender, parse_address(holder, "holder"))

    def revoke(self, holder: str, *, sender: Sender) -> TxReceipt:
        return self.send("revoke", sender, parse_address(holder, "holder"))

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
        functions = self.contract.functions
        commitment, issuer, expires_at, level, status, changed_at = functions.identityOf(address).call(
            block_identifier=block
        )
        standing = functions.standingOf(address).call(block_identifier=block)
        nonce = functions.nonceOf(address).call(block_identifier=block)
        return IdentityStatus(
            holder=address,
            standing=Standing(standing),
            status=Status(status),
            level=Level(level),
            issuer=_optional_address(issuer),
            expires_at=int(expires_at),
            commitment=bytes(commitment),
            changed_at=int(changed_at),
            nonce=int(nonce),
        )

    def successor_of(self, holder: str) -> ChecksumAddress | None:
        """The wallet ``holder``'s identity moved to (one hop), if it moved."""
        return _optional_address(self.contract.functions.successorOf(parse_address(holder, "holder")).call())

    def current_wallet(self, holder: str) -> ChecksumAddress:
        """The wallet ``holder``'s identity is at now: ``holder`` followed through every move
        (rotation or recovery). The registry never moves an identity onto a wallet that was
        one before, so the walk ends."""
        current = parse_address(holder, "holder")
        while (successor := self.successor_of(current)) is not None:
            current = successor
        return current

    def check(self, holder: str, *, sender: Sender) -> CheckResult:
        """Check ``holder`` as relying party ``sender``; the check joins the holder's audit trail."""
        address = parse_address(holder, "holder")
        receipt = self.send("check", sender, address)
        (event,) = self.contract.events.HolderChecked().process_receipt(receipt)
        block = int(receipt["blockNumber"])
        standing = Standing(event["args"]["standing"])
        # Without consent the relying party learns the refusal and nothing more.
        status = None if standing is Standing.NO_CONSENT else self.status(address, block=block)
        return CheckResult(
            holder=address,
            relying_party=sender_address(sender),
            standing=standing,
            level=status.level if status else Level.NONE,
            issuer=status.issuer if status else None,
            expires_at=status.expires_at if status else 0,
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
            self.contract.functions.verifyAttribute(disclosure.holder, a.key, a.value, a.salt, list(a.proof)).call()
            for a in disclosure.attributes
        )

    # ------------------------------------------------------ consent and keys

    def domain(self) -> Domain:
        """The EIP-712 domain holders sign in, as the registry itself states it (ERC-5267):
        this registry on this chain."""
        return Domain(*self.signing_domain)

    def nonce(self, holder: str) -> int:
        """The key nonce ``holder``'s next rotation or cancellation message must carry."""
        return int(self.contract.functions.nonceOf(parse_address(holder, "holder")).call())

    def consent_nonce(self, holder: str, relying_party: str) -> int:
        """The nonce ``holder``'s next consent message for ``relying_party`` must carry."""
        return int(
            self.contract.functions.consentNonceOf(
                parse_address(holder, "holder"), parse_address(relying_party, "relying party")
            ).call()
        )

    def expected_nonce(self, action: TypedAction) -> int | None:
        """The nonce ``action`` must carry now (None for an objection, which names its recovery)."""
        if action.primary_type in ("GrantConsent", "WithdrawConsent"):
            return self.consent_nonce(action.holder, action.message["relyingParty"])
        if action.primary_type == "CancelRecovery":
            return None
        return self.nonce(action.holder)

    def consent_until(self, holder: str, relying_party: str) -> int:
        """Until when ``holder`` consents to checks by ``relying_party`` (0: no consent)."""
        return int(
            self.contract.functions.consentUntil(
                parse_address(holder, "holder"), parse_address(relying_party, "relying party")
            ).call()
        )

    def grant_consent(self, relying_party: str, until: int, *, sender: Sender) -> TxReceipt:
        """The holder ``sender`` consents to checks by ``relying_party`` until ``until`` (pays gas)."""
        party = self._consentable_party(relying_party, until)
        return self.send("grantConsent", sender, party, until)

    def withdraw_consent(self, relying_party: str, *, sender: Sender) -> TxReceipt:
        return self.send("withdrawConsent", sender, parse_address(relying_party, "relying party"))

    def cancel_signatures(self, *, sender: Sender) -> TxReceipt:
        """Void the key signatures (rotation, cancellation) the holder ``sender`` handed out
        and that were not used yet; withdrawing consent to a party voids its consent messages."""
        return self.send("cancelSignatures", sender)

    def rotate(self, new_holder: str, *, sender: Sender) -> TxReceipt:
        """Move the holder ``sender``'s identity to its new wallet (pays gas)."""
        return self.send("rotate", sender, parse_address(new_holder, "new holder"))

    def typed_grant_consent(self, holder: str, relying_party: str, until: int, *, deadline: int) -> TypedAction:
        """The message a holder signs to consent to ``relying_party`` until ``until``."""
        party = self._consentable_party(relying_party, until)
        return self._typed("GrantConsent", holder, deadline, relyingParty=party, until=until)

    def typed_withdraw_consent(self, holder: str, relying_party: str, *, deadline: int) -> TypedAction:
        party = parse_address(relying_party, "relying party")
        return self._typed("WithdrawConsent", holder, deadline, relyingParty=party)

    def typed_cancel_signatures(self, holder: str, *, deadline: int) -> TypedAction:
        return self._typed("CancelSignatures", holder, deadline)

    def typed_rotate(self, holder: str, new_holder: str, *, deadline: int) -> TypedAction:
        return self._typed("Rotate", holder, deadline, newHolder=parse_address(new_holder, "new holder"))

    def typed_cancel_recovery(self, holder: str, *, deadline: int) -> TypedAction:
        """The objection to ``holder``'s pending recovery: it names that request, and no other."""
        pending = self.recovery(holder)
        if pending.new_holder is None:
            raise InvalidInput(f"{pending.holder} has no recovery pending: there is nothing to object to.")
        return self._typed("CancelRecovery", holder, deadline, newHolder=pending.new_holder, readyAt=pending.ready_at)

    def relay(self, signed: SignedAction, *, sender: Sender) -> TxReceipt:
        """Submit a holder's signed action; ``sender`` pays the gas.

        What Python can tell is refused before anything is sent: another chain or
        registry, a used or cancelled nonce, a passed deadline, a malleated signature.
        """
        action = signed.action
        action.check_domain(self.domain())
        current = self.expected_nonce(action)
        if current is not None and action.nonce != current:
            raise InvalidInput(
                f"This signature carries nonce {action.nonce}, but {action.holder}'s next nonce for it is {current}: "
                "it was used already, or cancelled. Ask the holder to sign again."
            )
        if not signed.signature:
            raise InvalidInput("The signature is empty: ask the holder to sign.")
        if action.deadline <= self.chain.latest_timestamp():  # the next block is later still
            raise InvalidInput(f"This signature expired at {iso(action.deadline)}: ask the holder to sign again.")
        if is_high_s(signed.signature):
            raise InvalidInput("This signature has a high s value (a malleated copy): it is refused.")
        fields = [action.message[f["name"]] for f in ACTIONS[action.primary_type]]
        return self.send(
            action.primary_type[0].lower() + action.primary_type[1:] + "BySig", sender, *fields, signed.signature
        )

    def _typed(self, primary_type: str, holder: str, deadline: int, **fields: Any) -> TypedAction:
        address = parse_address(holder, "holder")
        message = {"holder": address, **fields, "deadline": deadline}
        if any(f["name"] == "nonce" for f in ACTIONS[primary_type]):
            party = fields.get("relyingParty")
            message["nonce"] = self.consent_nonce(address, party) if party else self.nonce(address)
        ordered = {f["name"]: message[f["name"]] for f in ACTIONS[primary_type]}
        return TypedAction(self.domain(), primary_type, ordered)

    def _consentable_party(self, relying_party: str, until: int) -> ChecksumAddress:
        party = parse_address(relying_party, "relying party")
        if not self.relying_party(party).active:
            raise InvalidInput(f"{party} is not an appointed relying party: consent to it would be pointless.")
        if until <= self.chain.latest_timestamp():
            raise InvalidInput(f"The consent must last until a time in the future, not {iso(until)}.")
        return party

    # -------------------------------------------------------------- recovery

    def recovery_delay(self) -> int:
        return int(self.contract.functions.recoveryDelay().call())

    def recovery(self, holder: str) -> Recovery:
        """The pending recovery of ``holder``, if any."""
        address = parse_address(holder, "holder")
        new_holder, ready_at = self.contract.functions.recoveryOf(address).call()
        return Recovery(address, _optional_address(new_holder), int(ready_at))

    def request_recovery(self, holder: str, new_holder: str, *, sender: Sender) -> TxReceipt:
        """The issuer ``sender`` starts moving a lost wallet's identity to ``new_holder``."""
        return self.send(
            "requestRecovery", sender, parse_address(holder, "holder"), parse_address(new_holder, "new holder")
        )

    def cancel_recovery(self, holder: str, *, sender: Sender) -> TxReceipt:
        """The holder (objecting) or its issuer cancels a pending recovery."""
        return self.send("cancelRecovery", sender, parse_address(holder, "holder"))

    def complete_recovery(self, holder: str, *, sender: Sender) -> TxReceipt:
        """The issuer ``sender`` completes a recovery once the waiting period is over."""
        return self.send("completeRecovery", sender, parse_address(holder, "holder"))

    # --------------------------------------------------------------- history

    def history(self, holder: str, *, to_block: int | None = None) -> list[HistoryEntry]:
        """Every event about ``holder``, oldest first, rebuilt from logs alone.

        An identity that arrived by rotation or recovery brings the history of the wallet
        it came from. Logs are queried by topic, from the registry's deployment block, in
        chunks (see :meth:`ContractClient.logs`).
        """
        address = parse_address(holder, "holder")
        last = self.chain.w3.eth.block_number if to_block is None else to_block
        entries = {(e.block_number, e.log_index): e for e in self._logs_about(address, 1, last)}
        for arrival in self._logs_about(address, 2, last):
            if arrival.event in MOVE_EVENTS and arrival.holder != address:
                for entry in self.history(arrival.holder, to_block=arrival.block_number):
                    entries[(entry.block_number, entry.log_index)] = entry
        return [entries[key] for key in sorted(entries)]

    def _logs_about(self, address: ChecksumAddress, position: int, last: int) -> list[HistoryEntry]:
        topics: list[str | None] = [None] * (position + 1)
        topics[position] = "0x" + address[2:].lower().rjust(64, "0")
        logs = self.logs(topics, last)
        return [self._entry(log) for log in logs if bytes(log["topics"][0]) in self._holder_events]

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
        actor_arg = HOLDER_EVENTS[name]
        actor = to_checksum_address(args.pop(actor_arg)) if actor_arg else None
        holder = to_checksum_address(args.pop("holder"))
        return HistoryEntry(
            holder=holder,
            block_number=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            event=name,
            actor=actor,
            details=_describe_args(args),
        )


#: Unix-time event arguments, and the name their ISO form is shown under.
_TIME_FIELDS = {"expiresAt": "expires", "until": "until", "readyAt": "ready"}


def _describe_args(args: dict[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {}
    for key, value in args.items():
        if key == "level":
            described[key] = Level(value).label
        elif key == "standing":
            described[key] = Standing(value).label
        elif key in _TIME_FIELDS:
            described[_TIME_FIELDS[key]] = iso(value) if value else None
        elif isinstance(value, bytes):
            described[key] = "0x" + value.hex()
        else:
            described[key] = value
    return described
