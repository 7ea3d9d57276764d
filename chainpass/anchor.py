"""Anchored batches of EPCIS events (contract ``EventAnchor``): any number of events declared
in one transaction as the Merkle root of their CBV 2.0 event hashes, and a proof bundle per
event that anyone checks offline (:func:`check_bundle`) or on chain
(:meth:`EventAnchors.check_on_chain`).

**What an anchor proves**: that the organisation that sent it declared these events, in
this document, by that block's time. It changes no passport: recalls, sales and custody are
lifecycle events (:mod:`chainpass.passport`), with their rules checked when they happen. An
anchored event is evidence beside them.

**The tree** is OpenZeppelin's: leaves ``keccak256(keccak256(abi.encode(eventHash)))`` (hashed
twice, so that an inner node never passes for a leaf), pairs hashed in sorted order, an odd
node carried up a level unpaired. Its root is 32 bytes whatever the batch's size, so the cost
of an anchor does not grow with it (``make bench``); the limit is the time to hash the events
(:func:`chainpass.standards.epcis.event_hash`), not the block.

**The document's hash** is the SHA-256 of the file's bytes, as its sender and its receivers
hold it (:func:`document_digest`); it is in the anchor's event (``BatchAnchored``), not in
storage. No event data goes on chain: hashes only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from eth_abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address

from chainpass.artifacts import ANCHOR_CONTRACT
from chainpass.chain import ZERO_ADDRESS, Chain, Sender
from chainpass.contract_client import ContractClient, LogSource
from chainpass.deployment import Deployment
from chainpass.errors import DeploymentError, InvalidInput
from chainpass.records import JsonRecord
from chainpass.standards.epcis import EPCIS_CONTEXT, event_hash, events_of, hash_uri, parse_hash_uri

#: The ``type`` of a proof bundle's JSON.
BUNDLE_TYPE = "chainpass-anchored-event/1"
#: The most events one anchor says it holds (the contract keeps the count in 56 bits).
MAX_EVENTS = 2**56 - 1


def event_leaf(digest: bytes) -> bytes:
    """The tree's leaf of the event whose CBV 2.0 hash is ``digest``."""
    return keccak(keccak(abi_encode(["bytes32"], [digest])))


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class MerkleTree:
    """The tree over a batch's leaves: every level, the leaves first and the root last."""

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def of(cls, digests: Sequence[bytes]) -> MerkleTree:
        """The tree of the events whose CBV 2.0 hashes are ``digests`` (in the batch's order)."""
        if not digests:
            raise InvalidInput("A batch holds at least one event.")
        level = tuple(event_leaf(d) for d in digests)
        levels = [level]
        while len(level) > 1:
            pairs = [_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            level = (*pairs, level[-1]) if len(level) % 2 else tuple(pairs)
            levels.append(level)
        return cls(tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, index: int) -> tuple[bytes, ...]:
        """The sibling hashes from leaf ``index`` up to the root (none where a node was unpaired)."""
        siblings = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                siblings.append(level[sibling])
            index //= 2
        return tuple(siblings)


def root_of(digest: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from the event whose hash is ``digest``."""
    node = event_leaf(digest)
    for sibling in proof:
        node = _pair(node, sibling)
    return node


def document_digest(raw: bytes) -> bytes:
    """The hash an anchor records of its document: SHA-256 of the file's bytes."""
    return hashlib.sha256(raw).digest()


@dataclass(frozen=True)
class AnchorRecord(JsonRecord):
    """Who anchored a root, when, and how many events it holds."""

    root: bytes
    organisation: ChecksumAddress
    anchored_at: int
    events: int


@dataclass(frozen=True)
class ProofBundle:
    """One anchored event and what proves it: the event as its document has it (with the
    document's ``@context``, which its hash is computed with), its CBV 2.0 hash, the path to
    the anchored root, and where the anchor is."""

    event: dict[str, Any]
    context: Any
    digest: bytes
    root: bytes
    proof: tuple[bytes, ...]
    document_digest: bytes
    chain_id: int
    contract: ChecksumAddress
    transaction: str
    block_number: int
    organisation: ChecksumAddress

    def to_json(self) -> dict[str, Any]:
        return {
            "type": BUNDLE_TYPE,
            "event": self.event,
            "context": self.context,
            "eventHash": hash_uri(self.digest),
            "root": "0x" + self.root.hex(),
            "proof": ["0x" + p.hex() for p in self.proof],
            "documentHash": "0x" + self.document_digest.hex(),
            "anchor": {
                "chainId": self.chain_id,
                "contract": self.contract,
                "transaction": self.transaction,
                "blockNumber": self.block_number,
                "organisation": self.organisation,
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> ProofBundle:
        """A bundle from its JSON; :class:`InvalidInput` naming the first field that is wrong."""
        if not isinstance(data, dict) or data.get("type") != BUNDLE_TYPE:
            raise InvalidInput(f"Not an anchored event's proof bundle (its type is not {BUNDLE_TYPE!r}).")
        anchor = data.get("anchor")
        if not isinstance(data.get("event"), dict) or not isinstance(anchor, dict):
            raise InvalidInput("The proof bundle has no event or no anchor.")
        digest = parse_hash_uri(data.get("eventHash", ""))
        if digest is None:
            raise InvalidInput("The proof bundle's eventHash is not a ni:///sha-256 event hash.")
        proof = data.get("proof")
        if not isinstance(proof, list):
            raise InvalidInput("The proof bundle's proof is not a list of hashes.")
        try:
            return cls(
                event=data["event"],
                context=data.get("context", [EPCIS_CONTEXT]),
                digest=digest,
                root=_hash32(data.get("root"), "root"),
                proof=tuple(_hash32(p, "proof") for p in proof),
                document_digest=_hash32(data.get("documentHash"), "documentHash"),
                chain_id=int(anchor["chainId"]),
                contract=to_checksum_address(anchor["contract"]),
                transaction=str(anchor["transaction"]),
                block_number=int(anchor["blockNumber"]),
                organisation=to_checksum_address(anchor["organisation"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"The proof bundle's anchor is incomplete or malformed ({exc}).") from None


def _hash32(value: Any, field: str) -> bytes:
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise InvalidInput(f"The proof bundle's {field} is not a 32-byte hash: {value!r}.")
    return raw


def check_bundle(bundle: ProofBundle) -> None:
    """Check a bundle offline: its event hashes to its ``eventHash`` (CBV 2.0, with its
    document's context), and its proof leads from that hash to its root. Raises
    :class:`InvalidInput` saying which does not hold; what the root was anchored as, only the
    chain tells (:meth:`EventAnchors.check_on_chain`)."""
    if event_hash(bundle.event, bundle.context) != bundle.digest:
        raise InvalidInput("The bundle's event does not hash to its eventHash: the event was changed.")
    if root_of(bundle.digest, bundle.proof) != bundle.root:
        raise InvalidInput("The bundle's proof does not lead from its event to its root.")


@dataclass(frozen=True)
class AnchoredDocument:
    """A document's events anchored in one transaction, with a proof bundle for each."""

    root: bytes
    transaction: str
    block_number: int
    bundles: tuple[ProofBundle, ...]


class EventAnchors(ContractClient):
    """The ``EventAnchor`` contract: anchor batches, read anchors, check inclusion."""

    CONTRACT_NAME: ClassVar[str] = ANCHOR_CONTRACT
    DOMAIN_NAME: ClassVar[str] = ""

    @classmethod
    def from_deployment(cls, chain: Chain, deployment: Deployment, *, log_source: LogSource | None = None) -> Self:
        if ANCHOR_CONTRACT not in deployment.contracts:
            raise DeploymentError(
                f"The deployment on chain {deployment.chain_id} has no {ANCHOR_CONTRACT} (it is older than the "
                "anchors): run `chainpass deploy`, which adds it beside the contracts recorded."
            )
        return super().from_deployment(chain, deployment, log_source=log_source)

    def anchor(self, root: bytes, events: int, document: bytes, *, sender: Sender) -> Any:
        """Anchor the batch of ``events`` events whose tree's root is ``root``, from the document
        whose hash is ``document``: the receipt (refused if the root is anchored already, or the
        sender is not a verified organisation of the passports)."""
        if not 0 < events <= MAX_EVENTS:
            raise InvalidInput(f"A batch holds 1 to {MAX_EVENTS} events, not {events}.")
        return self.send("anchor", sender, root, events, document)

    def anchor_of(self, root: bytes) -> AnchorRecord | None:
        """Who anchored ``root``, when and with how many events; None if nobody did."""
        organisation, anchored_at, events = self.contract.functions.anchorOf(root).call()
        if to_checksum_address(organisation) == ZERO_ADDRESS:
            return None
        return AnchorRecord(root, to_checksum_address(organisation), int(anchored_at), int(events))

    def is_anchored(self, root: bytes, digest: bytes, proof: Sequence[bytes]) -> AnchorRecord | None:
        """The anchor that holds the event whose hash is ``digest`` by ``proof``, asked of the
        contract's view (None if the proof fails or the root was never anchored)."""
        included, organisation, anchored_at = self.contract.functions.isAnchored(root, digest, list(proof)).call()
        if not included:
            return None
        record = self.anchor_of(root)
        assert record is not None and record.organisation == to_checksum_address(organisation)
        return AnchorRecord(root, record.organisation, int(anchored_at), record.events)

    def anchor_document(self, document: Any, raw: bytes, *, sender: Sender) -> AnchoredDocument:
        """Anchor every event of the EPCIS document ``document`` (read from the bytes ``raw``)
        in one transaction; a proof bundle for each event."""
        events = events_of(document)
        context = document.get("@context", [EPCIS_CONTEXT])
        digests = [event_hash(event, context) for event in events]
        tree = MerkleTree.of(digests)
        receipt = self.anchor(tree.root, len(digests), document_digest(raw), sender=sender)
        transaction = "0x" + bytes(receipt["transactionHash"]).hex()
        block = int(receipt["blockNumber"])
        place = AnchorPlace(self.chain.chain_id, self.address, transaction, block, to_checksum_address(receipt["from"]))
        return AnchoredDocument(tree.root, transaction, block, bundles_of(events, context, digests, raw, place))

    def check_on_chain(self, bundle: ProofBundle) -> AnchorRecord:
        """Check ``bundle`` offline (:func:`check_bundle`), then on this contract: its root is
        anchored, by the organisation it names, and the view accepts its proof. The anchor;
        :class:`InvalidInput` saying what does not hold."""
        check_bundle(bundle)
        if (bundle.chain_id, bundle.contract) != (self.chain.chain_id, self.address):
            raise InvalidInput(
                f"The bundle's anchor is on chain {bundle.chain_id} at {bundle.contract}, not this chain "
                f"{self.chain.chain_id} at {self.address}."
            )
        record = self.is_anchored(bundle.root, bundle.digest, bundle.proof)
        if record is None:
            raise InvalidInput(f"The root 0x{bundle.root.hex()} is not anchored at {self.address}.")
        if record.organisation != bundle.organisation:
            raise InvalidInput(
                f"The root was anchored by {record.organisation}, not by {bundle.organisation} as the bundle says."
            )
        return record


@dataclass(frozen=True)
class AnchorPlace:
    """Where a batch was anchored: the chain, the contract, the transaction, its block, and
    the organisation that sent it."""

    chain_id: int
    contract: ChecksumAddress
    transaction: str
    block_number: int
    organisation: ChecksumAddress


def bundles_of(
    events: Sequence[Any], context: Any, digests: Sequence[bytes], raw: bytes, place: AnchorPlace
) -> tuple[ProofBundle, ...]:
    """The proof bundles of a document's ``events`` (whose CBV 2.0 hashes are ``digests``, in
    its order; ``raw`` its bytes) anchored at ``place``: one per event, in the same order."""
    tree = MerkleTree.of(digests)
    return tuple(
        ProofBundle(
            event=dict(event),
            context=context,
            digest=digest,
            root=tree.root,
            proof=tree.proof(index),
            document_digest=document_digest(raw),
            chain_id=place.chain_id,
            contract=place.contract,
            transaction=place.transaction,
            block_number=place.block_number,
            organisation=place.organisation,
        )
        for index, (event, digest) in enumerate(zip(events, digests, strict=True))
    )


def anchor_events(
    anchors: EventAnchors,
    events: Sequence[Any],
    digests: Sequence[bytes],
    context: Any,
    raw: bytes,
    *,
    sender: Sender,
) -> tuple[AnchoredDocument, bool]:
    """Anchor ``events`` (some or all of a document's, their CBV 2.0 hashes ``digests``, read
    with the document's ``context``; ``raw`` the document's bytes) in one transaction, and a
    proof bundle for each; whether the anchor was sent now. A batch whose root is anchored
    already (a re-run of an import) is not sent a second time: its bundles are made from the
    anchor's log, by whoever anchored it."""
    tree = MerkleTree.of(digests)
    record = anchors.anchor_of(tree.root)
    if record is None:
        receipt = anchors.anchor(tree.root, len(digests), document_digest(raw), sender=sender)
        transaction, block = "0x" + bytes(receipt["transactionHash"]).hex(), int(receipt["blockNumber"])
        organisation = to_checksum_address(receipt["from"])
    else:
        log = anchors.logs([anchors.topic("BatchAnchored"), "0x" + tree.root.hex()])[0]
        transaction, block = "0x" + bytes(log["transactionHash"]).hex(), int(log["blockNumber"])
        organisation = record.organisation
    place = AnchorPlace(anchors.chain.chain_id, anchors.address, transaction, block, organisation)
    return AnchoredDocument(
        tree.root, transaction, block, bundles_of(events, context, digests, raw, place)
    ), record is None
