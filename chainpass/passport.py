"""Client for the `ProductPassport` contract: commission, record EPCIS events, pack, trace, verify.

Vocabulary follows GS1 EPCIS 2.0 / CBV 2.0: business steps (``shipping``,
``receiving``, ``inspecting`` ...) and dispositions (``in_transit``, ``sellable`` ...).
A passport's id is derived from its GS1 keys (see :meth:`ProductPassports.passport_id`),
so a scanned code finds exactly one passport.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from eth_abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3.types import TxReceipt

from chainpass.chain import Sender, parse_address, sender_address
from chainpass.contract_client import ContractClient
from chainpass.custody import DOMAIN_NAME as OFFER_DOMAIN_NAME
from chainpass.custody import CustodyOffer, SignedOffer
from chainpass.enums import BizStep, Disposition, Kind, Role, Standing, State
from chainpass.errors import ChainIdMismatch, InvalidInput
from chainpass.identity import IdentityRegistry
from chainpass.records import PASSPORT_ID, JsonRecord
from chainpass.standards.gs1 import ProductKey, parse_gtin
from chainpass.trace import TraceEntry, Tracer

CONTRACT_NAME = "ProductPassport"
#: Where ``chainpass serve`` answers a passport's ERC-721 metadata: this path, then the id.
METADATA_PATH = "/metadata/"


def metadata_base(url: str) -> str:
    """``url`` checked as the base of the passports' ERC-721 metadata URIs (``tokenURI`` is it
    followed by the id): an http(s) URL with a host, ending in ``/``, no query or fragment."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or not text.isascii() or " " in text:
        raise InvalidInput(f"{url!r} is not a metadata base URL: give http(s)://, a host and a path, e.g. "
                           f"https://id.example.org{METADATA_PATH}.")  # fmt: skip
    if parts.query or parts.fragment or not text.endswith("/"):
        raise InvalidInput(
            f"The metadata base {url!r} must end with / (the passport's id is appended), with no ? or #."
        )
    return text


def metadata_id(id_: int) -> str:
    """Passport ``id_`` as ``tokenURI`` writes it after the base: ``0x`` and 64 hex digits."""
    return f"0x{id_:064x}"


@dataclass(frozen=True)
class EpcisEvent:
    """One EPCIS event (an ObjectEvent): what happened, when, where and why, to one or
    more passports."""

    passports: tuple[int, ...]
    biz_step: BizStep
    disposition: Disposition
    event_time: int
    read_point: bytes = bytes(32)
    document_hash: bytes = bytes(32)
    #: The EPCIS event's hash id (CBV 2.0 event hash), or 32 zero bytes.
    event_id: bytes = bytes(32)

    def as_tuple(self) -> tuple[Any, ...]:
        if not self.passports:
            raise InvalidInput(f"The {self.biz_step.label} event names no passport.")
        return (
            int(self.biz_step),
            int(self.disposition),
            self.event_time,
            _bytes32(self.read_point, "read point"),
            _bytes32(self.document_hash, "document hash"),
            _bytes32(self.event_id, "event id"),
            list(self.passports),
        )


def transformation_id(text: str) -> bytes:
    """A transformation's id as the contract keeps it: keccak256 of its EPCIS
    transformationID (a URI or any name unique to the producer's transformation)."""
    if not text.strip():
        raise InvalidInput("A transformation needs an id, e.g. urn:uuid:… or mill-run-2026-11-27.")
    return keccak(text=text.strip())


def location_id(text: str) -> bytes:
    """A read point or location as the contract stores it: keccak256 of its identifier
    (e.g. an SGLN URN or a GLN); the identifier itself travels in documents, not on chain."""
    if not text.strip():
        raise InvalidInput("A read point needs an identifier, e.g. urn:epc:id:sgln:9506000.00001.0.")
    return keccak(text=text.strip())


@dataclass(frozen=True)
class PassportRecord(JsonRecord):
    """A passport as the chain holds it now."""

    id: int = field(metadata=PASSPORT_ID)
    owner: ChecksumAddress
    #: Who holds the goods: the custodian, the owner, or the holder of the outer container.
    custodian: ChecksumAddress
    producer: ChecksumAddress
    kind: Kind
    state: State
    effective_state: State
    tier: int
    container: int | None = field(metadata=PASSPORT_ID)
    #: The transformation that produced it (its 32-byte id), if any.
    origin: bytes | None


@dataclass(frozen=True)
class Lineage:
    """Where a passport comes from: the transformation that produced it and those before."""

    #: The transformation that produced it; None if it was commissioned directly.
    origin: bytes | None
    #: Whether an input of that transformation, or of any before it, was recalled.
    recalled: bool
    #: The transformations it descends from (besides its origin), as listed: the first
    #: ``MAX_LINEAGE`` (16).
    ancestors: tuple[bytes, ...]
    #: Whether it descends from more transformations than listed: those were merged into a
    #: recall group, whose recall shows in ``recalled`` even where the group holds
    #: transformations it does not descend from (never a miss, possibly too much; see
    #: docs/passport-rules.md, "Lineage beyond the list").
    grouped: bool = False


@dataclass(frozen=True)
class Brand(JsonRecord):
    """A registered GS1 company prefix and the brand (its licensee) that owns the codes under it."""

    prefix: str
    licensee: ChecksumAddress


@dataclass(frozen=True)
class Verdict(JsonRecord):
    """What a scan of a code tells a customer or a customs officer."""

    JSON_PROPERTIES = ("recalled", "sold", "returned")

    key: ProductKey
    id: int = field(metadata=PASSPORT_ID)
    #: Commissioned here by a producer licensed for the code: a fact about origin that
    #: never flips (whether the producer stands verified today is :attr:`producer_standing`).
    genuine: bool
    producer: ChecksumAddress | None
    producer_standing: Standing | None
    state: State
    journey: tuple[TraceEntry, ...]
    #: Who holds the goods now.
    custodian: ChecksumAddress | None
    #: When recalled: the passport the recall was recorded on (itself, a container it is
    #: in, or an input it was made from).
    recall_source: int | None = field(metadata=PASSPORT_ID)
    #: The brand that owns the code's GS1 company prefix today, if registered.
    brand: Brand | None = None
    #: Whether it was ever sold to a customer (no later step erases it: a returned item
    #: is shown as sold and returned, and a clone of a sold code shows up).
    sold_once: bool = False

    @property
    def recalled(self) -> bool:
        return self.state is State.RECALLED

    @property
    def sold(self) -> bool:
        return self.state is State.SOLD or self.sold_once

    @property
    def returned(self) -> bool:
        """Sold once, and back in the trade since."""
        return self.sold_once and self.state in (State.ACTIVE, State.IN_TRANSIT)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        return {"code": out.pop("key"), **out}


class ProductPassports(ContractClient):
    """A deployed `ProductPassport` on a :class:`~chainpass.chain.Chain`."""

    CONTRACT_NAME = CONTRACT_NAME
    DOMAIN_NAME = OFFER_DOMAIN_NAME

    @cached_property
    def registry(self) -> IdentityRegistry:
        return IdentityRegistry(self.chain, self.contract.functions.identityRegistry().call())

    # ------------------------------------------------------------------ roles

    def set_roles(self, account: str, roles: Role, *, sender: Sender) -> TxReceipt:
        return self.send("setRoles", sender, parse_address(account, "account"), int(roles))

    def roles_of(self, account: str) -> Role:
        return Role(self.contract.functions.rolesOf(parse_address(account, "account")).call())

    # --------------------------------------------------------- ERC-721 metadata

    def set_base_uri(self, base: str | None, *, sender: Sender) -> TxReceipt:
        """The governor sets where every passport's ERC-721 metadata is (``tokenURI`` is
        ``base`` followed by :func:`metadata_id`); None clears it (``tokenURI`` is then "")."""
        return self.send("setBaseURI", sender, "" if base is None else metadata_base(base))

    def base_uri(self) -> str | None:
        """The base of the passports' ERC-721 metadata URIs, or None while none is set: the
        last ``BaseURISet``'s (the contract has no getter, as OpenZeppelin's ERC721 has none)."""
        logs = self.logs([self.topic("BaseURISet")])
        if not logs:
            return None
        return str(self.contract.events.BaseURISet().process_log(logs[-1])["args"]["baseURI"]) or None

    def token_uri(self, id_: int) -> str:
        """Passport ``id_``'s ERC-721 ``tokenURI`` ("" while no base is set)."""
        self._existing(id_)
        return str(self.contract.functions.tokenURI(id_).call())

    # ----------------------------------------------------------------- brands

    def register_prefix(self, prefix: str, licensee: str, *, sender: Sender) -> TxReceipt:
        """Register GS1 company prefix ``prefix`` (4 to 12 digits) to the brand ``licensee`` (a registrar's act)."""
        return self.send("registerPrefix", sender, *_prefix_args(prefix), parse_address(licensee, "licensee"))

    def revoke_prefix(self, prefix: str, *, sender: Sender) -> TxReceipt:
        """Revoke a prefix's registration: nothing more is commissioned under it (a registrar's act)."""
        return self.send("revokePrefix", sender, *_prefix_args(prefix))

    def set_licence(
        self, prefix: str, manufacturer: str, *, gtin: str | None = None, granted: bool = True, sender: Sender
    ) -> TxReceipt:
        """Grant (or revoke) ``manufacturer`` a licence to commission under ``prefix``, or
        only for ``gtin`` (the brand's act)."""
        digits, length = _prefix_args(prefix)
        number = parse_gtin(gtin) if gtin is not None else 0
        if number and str(number).zfill(14)[1 : 1 + length] != prefix:
            raise InvalidInput(f"GTIN {gtin} is not under GS1 company prefix {prefix}.")
        return self.send(
            "setLicence", sender, digits, length, number, parse_address(manufacturer, "manufacturer"), granted
        )

    def brand_of(self, key: ProductKey | int) -> Brand | None:
        """The brand that owns ``key``'s GS1 company prefix (or a GTIN's, given as a number), if
        one is registered."""
        gtin, serial = (key, bytes(32)) if isinstance(key, int) else (key.gtin, key.serial_bytes)
        licensee, prefix, length = self.contract.functions.brandOf(gtin, serial).call()
        if not length:
            return None
        return Brand(str(prefix).zfill(int(length)), to_checksum_address(licensee))

    def is_licensed(self, prefix: str, manufacturer: str, *, gtin: str | None = None) -> bool:
        """Whether ``manufacturer`` may commission under ``prefix`` (or ``gtin`` under it)."""
        number = parse_gtin(gtin) if gtin is not None else 0
        return bool(
            self.contract.functions.isLicensed(
                *_prefix_args(prefix), number, parse_address(manufacturer, "manufacturer")
            ).call()
        )

    # ---------------------------------------------------------- organisations

    def follow_member(self, old_wallet: str, *, sender: Sender) -> TxReceipt:
        """Follow an organisation from ``old_wallet`` to the wallet its identity moved to
        in the registry (one hop): its roles, licences, products and custody go with it.
        Anyone may send this."""
        return self.send("followMember", sender, parse_address(old_wallet, "old wallet"))

    def current_wallet_of(self, account: str) -> ChecksumAddress:
        """The wallet an organisation's (possibly old) wallet ``account`` stands for now."""
        return to_checksum_address(self.contract.functions.currentWalletOf(parse_address(account, "account")).call())

    # -------------------------------------------------------------- passports

    @staticmethod
    def passport_id(key: ProductKey) -> int:
        """The passport id of ``key``, as the contract derives it: one GS1 key names one
        passport, so a container takes an item's kind in the hash."""
        kind = Kind.ITEM if key.kind is Kind.CONTAINER else key.kind
        encoded = abi_encode(["uint64", "uint8", "bytes32"], [key.gtin, int(kind), key.serial_bytes])
        return int.from_bytes(keccak(encoded), "big")

    def commission(
        self, keys: Sequence[ProductKey], *, metadata_hash: bytes = bytes(32), metadata_uri: str = "", sender: Sender
    ) -> list[int]:
        """Commission one passport per key (one transaction); returns their ids."""
        if not keys:
            raise InvalidInput("Give at least one product key to commission.")
        ids = [self.passport_id(k) for k in keys]
        if len(set(ids)) != len(ids):
            raise InvalidInput("The batch names the same product key twice.")
        rows = [k.row for k in keys]
        self.send("commission", sender, rows, _bytes32(metadata_hash, "metadata hash"), metadata_uri)
        return ids

    def record(self, events: Sequence[EpcisEvent], *, sender: Sender) -> TxReceipt:
        """Record EPCIS events, in order, in one transaction."""
        if not events:
            raise InvalidInput("Give at least one event to record.")
        return self.send("recordEvents", sender, [e.as_tuple() for e in events])

    def transform(
        self,
        transformation: bytes,
        inputs: Sequence[int],
        outputs: Sequence[ProductKey],
        *,
        metadata_hash: bytes = bytes(32),
        metadata_uri: str = "",
        sender: Sender,
    ) -> list[int]:
        """Record (part of) a transformation (see :func:`transformation_id`): consume
        ``inputs`` and commission ``outputs`` descended from them; returns the outputs' ids.
        Calling again with the same id adds inputs or outputs to the same transformation."""
        if not inputs and not outputs:
            raise InvalidInput("A transformation needs inputs to consume or outputs to produce.")
        if any(k.kind is Kind.CONTAINER for k in outputs):
            raise InvalidInput("A transformation produces goods (items or lots), not containers.")
        ids = [self.passport_id(k) for k in outputs]
        if len(set(ids)) != len(ids) or len(set(inputs)) != len(inputs):
            raise InvalidInput("The transformation names the same input or output twice.")
        rows = [k.row for k in outputs]
        self.send(
            "transform",
            sender,
            _bytes32(transformation, "transformation id"),
            list(inputs),
            rows,
            _bytes32(metadata_hash, "metadata hash"),
            metadata_uri,
        )
        return ids

    def pack(self, container: int, ids: Sequence[int], *, event_id: bytes = bytes(32), sender: Sender) -> TxReceipt:
        """Pack ``ids`` into ``container``; ``event_id`` is the EPCIS AggregationEvent's hash id, if any."""
        return self.send("pack", sender, container, list(ids), _bytes32(event_id, "event id"))

    def unpack(self, ids: Sequence[int], *, event_id: bytes = bytes(32), sender: Sender) -> TxReceipt:
        """Take ``ids`` out of their containers; ``event_id`` as for :meth:`pack`."""
        return self.send("unpack", sender, list(ids), _bytes32(event_id, "event id"))

    def transfer(self, id_: int, to: str, *, sender: Sender) -> TxReceipt:
        """Pass ownership (ERC-721) of ``id_`` from ``sender`` to ``to``; the goods stay with
        whoever holds them until someone accepts custody."""
        record = self._existing(id_)
        transfer = self.contract.get_function_by_signature("safeTransferFrom(address,address,uint256)")
        return self.chain.transact(transfer(record.owner, parse_address(to, "new owner"), id_), sender)

    # ---------------------------------------------------------------- custody

    def custodian_of(self, id_: int) -> ChecksumAddress:
        """Who holds the goods of ``id_`` now."""
        return self._existing(id_).custodian

    def custody_nonce(self, id_: int) -> int:
        """The custody nonce of ``id_``: the one its next offer must carry (every custody
        change bumps it)."""
        _custodian, nonce = self.contract.functions.custodyOf(id_).call()
        return int(nonce)

    def custody_offer(self, id_: int, to: str, *, deadline: int) -> CustodyOffer:
        """The offer the current holder of ``id_``'s goods signs to hand them to ``to``."""
        record = self._existing(id_)
        if record.container:
            raise InvalidInput(
                f"Passport {hex(id_)} is packed in container {hex(record.container)}: hand over the container."
            )
        receiver = parse_address(to, "receiver")
        if receiver == record.custodian:
            raise InvalidInput(f"{receiver} holds the goods of passport {hex(id_)} already.")
        _custodian, nonce = self.contract.functions.custodyOf(id_).call()
        chain_id, contract = self.signing_domain
        return CustodyOffer(
            chain_id=chain_id,
            contract=contract,
            passport=id_,
            holder=record.custodian,
            receiver=receiver,
            nonce=int(nonce),
            deadline=deadline,
        )

    def sign_offer(self, offer: CustodyOffer, *, signer: Sender) -> SignedOffer:
        """The holder's signature on ``offer`` (free: nothing is sent)."""
        if sender_address(signer) != offer.holder:
            raise InvalidInput(f"The offer is {offer.holder}'s to sign, not {sender_address(signer)}'s.")
        return SignedOffer(offer, self.chain.sign_typed_data(signer, offer.to_json()))

    def accept_custody(self, signed: SignedOffer, *, sender: Sender) -> TxReceipt:
        """Take the goods offered in ``signed``: the receiver sends this, and pays its gas."""
        offer = signed.offer
        if offer.chain_id != self.chain.chain_id:
            raise ChainIdMismatch(
                f"The offer was made for chain {offer.chain_id}, not this chain ({self.chain.chain_id}): "
                "ask the holder to sign it again here."
            )
        if offer.contract != self.address:
            raise InvalidInput(f"The offer was made for passports at {offer.contract}, not {self.address}.")
        if sender_address(sender) != offer.receiver:
            raise InvalidInput(f"The offer is made out to {offer.receiver}; only it can accept it.")
        return self.send("acceptCustody", sender, offer.passport, offer.deadline, signed.signature)

    def cancel_custody_offers(self, id_: int, *, sender: Sender) -> TxReceipt:
        """Void every offer the holder of ``id_``'s goods has signed and not yet seen accepted."""
        return self.send("cancelCustodyOffers", sender, id_)

    def reclaim_custody(self, id_: int, *, sender: Sender) -> TxReceipt:
        """The owner takes the goods back from a custodian whose identity was revoked."""
        return self.send("reclaimCustody", sender, id_)

    def repair_custody(self, id_: int, to: str, *, reason: str, sender: Sender) -> TxReceipt:
        """The governor hands ``id_``'s goods to ``to``; the hash of ``reason`` (its written
        decision, kept off chain) goes on the record."""
        if not reason.strip():
            raise InvalidInput("A custody repair needs the reason, as written in the governor's decision.")
        return self.send("repairCustody", sender, id_, parse_address(to, "new custodian"), keccak(text=reason))

    # ---------------------------------------------------------------- reading

    def producer_of(self, id_: int) -> ChecksumAddress:
        self._existing(id_)
        return self._producer(id_)

    def _producer(self, id_: int) -> ChecksumAddress:
        """The producer of an existing passport, at its current wallet (asked each time: an
        organisation followed through a key change has a new one)."""
        return self.producers_of([id_])[0]

    def producers_of(self, ids: Sequence[int]) -> list[ChecksumAddress]:
        """The producer of each of the existing passports ``ids``, at its current wallet: one request."""
        return [to_checksum_address(word[12:32]) for word in self.views("producerOf", ids)]

    def lineage_of(self, id_: int) -> Lineage:
        """The transformation that produced ``id_``, and those it descends from."""
        self._existing(id_)
        origin, recalled, ancestors, grouped = self.contract.functions.lineageOf(id_).call()
        return Lineage(
            bytes(origin) if any(origin) else None, bool(recalled), tuple(bytes(a) for a in ancestors), bool(grouped)
        )

    def exists(self, id_: int) -> bool:
        """Whether passport ``id_`` was commissioned (one call)."""
        return int(self.contract.functions.passportOf(id_).call()[2]) != State.NONE

    def key_of(self, id_: int) -> ProductKey | None:
        """The GS1 key passport ``id_`` was commissioned under (from its commissioning log), or
        None if it was never commissioned: messages name a passport by its code, not its id."""
        _owner, kind, state, tier, *_rest = self.contract.functions.passportOf(id_).call()
        if state == State.NONE:
            return None
        topic = self.topic("PassportCommissioned")
        logs = self.logs([topic, "0x" + id_.to_bytes(32, "big").hex()])
        if not logs:
            return None
        args = self.contract.events.PassportCommissioned().process_log(logs[0])["args"]
        try:
            serial = bytes(args["serial"]).rstrip(b"\0").decode("ascii")
            return ProductKey(int(args["gtin"]), Kind(kind), serial, int(tier))
        except (InvalidInput, UnicodeDecodeError, ValueError):
            return None

    def passport(self, id_: int) -> PassportRecord | None:
        """The passport ``id_`` as the chain holds it, or None if it was never commissioned."""
        _owner, kind, state, tier, packed, _producer, origin, _flags = self.contract.functions.passportOf(id_).call()
        if state == State.NONE:
            return None
        functions = self.contract.functions
        container = int(functions.containerOf(id_).call()) if packed else 0
        (word,) = functions.goodsOf([id_]).call()  # its custodian and effective state, in one word
        goods = int.from_bytes(word, "big")
        return PassportRecord(
            id=id_,
            owner=to_checksum_address(functions.ownerOf(id_).call()),
            custodian=to_checksum_address(bytes(word)[12:]),
            producer=to_checksum_address(functions.producerOf(id_).call()),
            kind=Kind(kind),
            state=State(state),
            effective_state=State((goods >> 160) & 0xFF),
            tier=int(tier),
            container=container or None,
            origin=bytes(functions.lineageOf(id_).call()[0]) if origin else None,
        )

    def _existing(self, id_: int) -> PassportRecord:
        record = self.passport(id_)
        if record is None:
            raise InvalidInput(f"No passport has id {hex(id_)}: check the code, or commission it first.")
        return record

    # ------------------------------------------------------------------ trace

    @cached_property
    def tracer(self) -> Tracer:
        """Rebuilds journeys from this client's logs (:mod:`chainpass.trace`)."""
        return Tracer(self)

    def trace(self, id_: int) -> list[TraceEntry]:
        """The passport's journey from logs (see :meth:`chainpass.trace.Tracer.trace`)."""
        return self.tracer.trace(id_)

    def inputs_of(self, transformation: bytes) -> list[int]:
        """The passports transformation ``transformation`` consumed, in the order it did."""
        return self.tracer.inputs_of(transformation)

    # ----------------------------------------------------------------- verify

    def verify(self, key: ProductKey) -> Verdict:
        """The verdict for a scanned code: genuine (commissioned here by a producer licensed
        for the code: a fact that never flips), the brand, whether the producer stands
        verified today, its state now (recalled, also through its container or an input
        it was made from; quarantined; sold once: a cloned code scanned in another shop
        shows as sold), who holds it, and its journey."""
        id_ = self.passport_id(key)
        genuine, state, sold_once, producer, standing, custodian = self.contract.functions.verdictOf(id_).call()
        if state == State.NONE:
            return Verdict(key, id_, False, None, None, State.NONE, (), None, None, self.brand_of(key))
        effective = State(state)
        journey = tuple(self.trace(id_))
        recall_source = None
        if effective is State.RECALLED:
            recalls = [e for e in journey if e.details.get("biz_step") == BizStep.RECALLING.label]
            recall_source = recalls[-1].passport if recalls else None
        return Verdict(
            key, id_, bool(genuine), to_checksum_address(producer), Standing(standing), effective, journey,
            to_checksum_address(custodian), recall_source, self.brand_of(key), bool(sold_once),
        )  # fmt: skip


def _prefix_args(prefix: str) -> tuple[int, int]:
    """A GS1 company prefix as the contract takes it: its digits as a number, and their count."""
    text = prefix.strip()
    if not (text.isdigit() and text.isascii() and 4 <= len(text) <= 12):
        raise InvalidInput(f"{prefix!r} is not a GS1 company prefix: give its 4 to 12 digits, e.g. 9506000.")
    return int(text), len(text)


def _bytes32(value: bytes, what: str) -> bytes:
    if len(value) != 32:
        raise InvalidInput(f"The {what} must be 32 bytes, not {len(value)}.")
    return value
