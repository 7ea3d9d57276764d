"""The ProductPassport contract, driven through `chainpass.passport.ProductPassports`.

Every chain test runs on the embedded EVM, Anvil and Ganache (see conftest.py). The
organisations of ``passport_world`` (producer, inspector, carrier, customs, retailer,
registrar, a food-safety authority) are verified by the bureau and given their passport
role once per module and backend (module snapshot); each test is then isolated by the
per-test snapshot of the ``world`` fixture.

Who may touch what (issue 11): physical steps and observations are recorded by whoever
holds the goods, with the step's role, so where another party acts the tests hand the
goods over first (``hand_over``); inspecting and customs steps are the regulators' on any
passport; a passport's producer, or a food-safety authority, recalls it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from accounts import World
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from passport_world import (
    CASE_GTIN,
    CERTIFICATE,
    ERC165,
    ERC721,
    GTIN,
    METADATA_HASH,
    METADATA_URI,
    ORG_ROLES,
    PORT,
    T0,
    WAREHOUSE,
    ZERO_ADDRESS,
    Orgs,
    commission_one,
    enlist_producer,
    event,
    hand_over,
    item_keys,
    last_receipt,
    recall,
    receive,
    recorded,
    sell,
    ship,
    shown,
    states,
)
from support import assert_readable, assert_refused, logs
from web3.types import TxParams, TxReceipt, Wei

from chainpass import enums
from chainpass.artifacts import event_topic, load_artifact
from chainpass.chain import Chain, Sender, sender_address
from chainpass.enums import BizStep, Disposition, Kind, Role, Standing, State
from chainpass.errors import InvalidInput
from chainpass.gs1 import ProductKey
from chainpass.identity import IdentityRegistry
from chainpass.passport import Brand, EpcisEvent, Lineage, ProductPassports, TraceEntry
from chainpass.reverts import ENUM_NAMES, FLAG_NAMES, MESSAGES, decode_revert

# ---------------------------------------------------------------------------- set-up


def test_orgs_hold_their_role_and_an_identity_in_force(
    pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs
) -> None:
    for name, role in ORG_ROLES.items():
        org = orgs.by_name(name)
        assert pp.roles_of(org) == role, name
        assert registry.status(org).standing is Standing.VALID, name
    assert pp.roles_of(orgs.stranger) == Role(0)
    assert registry.status(orgs.stranger).standing is Standing.NEVER_VERIFIED
    assert pp.registry.address == registry.address


def test_governor_sets_roles_as_a_bit_set(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    roles = Role.parse_many(["carrier", "Retailer "])

    receipt = pp.set_roles(orgs.stranger, roles, sender=orgs.governor)

    assert receipt["status"] == 1
    assert logs(pp, "RolesSet", receipt) == [{"account": orgs.stranger, "roles": 4 | 16}]
    assert pp.roles_of(orgs.stranger) == Role.CARRIER | Role.RETAILER
    assert pp.roles_of(orgs.stranger).labels == ["carrier", "retailer"]
    removed = pp.set_roles(orgs.stranger, Role(0), sender=orgs.governor)
    assert logs(pp, "RolesSet", removed) == [{"account": orgs.stranger, "roles": 0}]
    assert pp.roles_of(orgs.stranger) == Role(0)
    with pytest.raises(InvalidInput, match="'shipper' is not a role"):
        Role.parse_many(["shipper"])
    assert_refused(
        chain, lambda: pp.set_roles(ZERO_ADDRESS, Role.PRODUCER, sender=orgs.governor), "PassportZeroAddress"
    )


def test_governance_moves_in_two_steps(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    c = pp.contract.functions

    offer = chain.transact(c.transferGovernance(orgs.stranger), orgs.governor)
    assert_refused(chain, lambda: chain.transact(c.acceptGovernance(), orgs.producer), "PassportNotPendingGovernor")
    acceptance = chain.transact(c.acceptGovernance(), orgs.stranger)

    assert logs(pp, "GovernanceTransferStarted", offer) == [
        {"previousGovernor": orgs.governor, "newGovernor": orgs.stranger}
    ]
    assert logs(pp, "GovernanceTransferred", acceptance) == [
        {"previousGovernor": orgs.governor, "newGovernor": orgs.stranger}
    ]
    assert c.governor().call() == orgs.stranger
    assert_refused(
        chain,
        lambda: pp.set_roles(orgs.carrier, Role.RETAILER, sender=orgs.governor),
        "PassportNotGovernor",
        account=orgs.governor,
    )
    pp.set_roles(orgs.carrier, Role.RETAILER, sender=orgs.stranger)
    assert pp.roles_of(orgs.carrier) == Role.RETAILER


# --------------------------------------------------------------------- ids and ERC-721


@pytest.mark.parametrize(
    "key",
    [
        ProductKey.item(GTIN, "BAG00001"),
        ProductKey.lot(GTIN, "LOT-2026/01"),
        ProductKey.container(CASE_GTIN, "CASE1", 1),
        ProductKey.item("96385074", "!\"%&'()*+,-./:;<=>?_"),
    ],
    ids=str,
)
def test_passport_id_is_the_contracts(pp: ProductPassports, key: ProductKey) -> None:
    on_chain = pp.contract.functions.passportId(key.gtin, int(key.kind), key.serial_bytes).call()

    # One GS1 key, one passport: a container is hashed with an item's kind.
    kind = Kind.ITEM if key.kind is Kind.CONTAINER else key.kind
    assert ProductPassports.passport_id(key) == on_chain
    assert on_chain == int.from_bytes(
        keccak(abi_encode(["uint64", "uint8", "bytes32"], [key.gtin, kind, key.serial_bytes])), "big"
    )


def test_an_item_and_a_container_of_one_gs1_key_are_one_passport_a_lot_another(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    item_key, lot_key, case_key = (
        ProductKey.item(GTIN, "X1"),
        ProductKey.lot(GTIN, "X1"),
        ProductKey.container(GTIN, "X1", 2),
    )
    keys = [item_key, lot_key, case_key]

    ids = [ProductPassports.passport_id(k) for k in keys]
    on_chain = [pp.contract.functions.passportId(k.gtin, int(k.kind), k.serial_bytes).call() for k in keys]

    assert on_chain == ids
    assert ids[0] == ids[2] != ids[1]
    # Commissioned as an item, the key cannot be commissioned again as a container, nor the
    # other way round; a lot of the same number is another key.
    item, lot = pp.commission([item_key, lot_key], sender=orgs.producer)
    assert [item, lot] == ids[:2]
    assert_refused(chain, lambda: pp.commission([case_key], sender=orgs.producer), "PassportExists", id=shown(item))
    case = commission_one(pp, orgs, ProductKey.container(GTIN, "X2", 1))
    assert_refused(
        chain,
        lambda: pp.commission([ProductKey.item(GTIN, "X2")], sender=orgs.producer),
        "PassportExists",
        id=shown(case),
    )
    records = [pp.passport(i) for i in (item, lot, case)]
    assert [(r.kind, r.tier) for r in records if r is not None] == [(Kind.ITEM, 0), (Kind.LOT, 0), (Kind.CONTAINER, 1)]
    assert pp.contract.functions.balanceOf(orgs.producer).call() == 3


def test_commission_a_batch_mints_one_passport_per_key(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    keys = [*item_keys(4), ProductKey.lot(GTIN, "LOT-2026/01"), ProductKey.container(CASE_GTIN, "CASE1", 1)]

    ids = pp.commission(keys, metadata_hash=METADATA_HASH, metadata_uri=METADATA_URI, sender=orgs.producer)

    receipt = last_receipt(chain)
    assert ids == [ProductPassports.passport_id(k) for k in keys]
    assert ids == [pp.contract.functions.passportId(k.gtin, int(k.kind), k.serial_bytes).call() for k in keys]
    assert logs(pp, "Transfer", receipt) == [{"from": ZERO_ADDRESS, "to": orgs.producer, "tokenId": i} for i in ids]
    commissioned = logs(pp, "PassportCommissioned", receipt)
    assert commissioned == [{"id": i, "gtin": k.gtin, "serial": k.serial_bytes} for i, k in zip(ids, keys, strict=True)]
    # Commissioning is not a transformation: nothing produced, no lineage.
    assert logs(pp, "PassportProduced", receipt) == []
    assert logs(pp, "BatchCommissioned", receipt) == [
        {"producer": orgs.producer, "count": 6, "metadataHash": METADATA_HASH, "metadataURI": METADATA_URI}
    ]
    assert pp.contract.functions.balanceOf(orgs.producer).call() == 6
    for id_, key in zip(ids, keys, strict=True):
        record = pp.passport(id_)
        assert record is not None
        assert pp.contract.functions.ownerOf(id_).call() == orgs.producer
        assert (record.owner, record.kind, record.tier) == (orgs.producer, key.kind, key.tier)
        assert (record.state, record.effective_state, record.container) == (State.ACTIVE, State.ACTIVE, None)
        # The producer is kept per passport; it holds the goods, and made them from nothing on chain.
        assert (record.producer, record.custodian, record.origin) == (orgs.producer, orgs.producer, None)
        assert pp.producer_of(id_) == orgs.producer
        assert pp.lineage_of(id_) == Lineage(None, False, ())


def test_balance_counts_every_batch(pp: ProductPassports, orgs: Orgs) -> None:
    first = pp.commission(item_keys(3, "A"), sender=orgs.producer)
    second = pp.commission(item_keys(7, "B"), sender=orgs.producer)

    assert len(set(first + second)) == 10
    assert pp.contract.functions.balanceOf(orgs.producer).call() == 10
    assert pp.contract.functions.balanceOf(orgs.retailer).call() == 0


def test_commissioning_a_key_twice_is_refused(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    old = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    new_key = ProductKey.item(GTIN, "BAG2")

    assert_refused(
        chain,
        lambda: pp.commission([new_key, ProductKey.item(GTIN, "BAG1")], sender=orgs.producer),
        "PassportExists",
        id=shown(old),
    )
    # The batch failed as a whole: the new key was not commissioned either.
    assert pp.passport(ProductPassports.passport_id(new_key)) is None
    assert pp.contract.functions.balanceOf(orgs.producer).call() == 1
    # The same key in another form (GTIN-14 instead of GTIN-13) is still the same passport.
    assert_refused(
        chain,
        lambda: pp.commission([ProductKey.item("0" + GTIN, "BAG1")], sender=orgs.producer),
        "PassportExists",
    )


def test_duplicates_within_a_batch_are_refused_before_sending(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    key = ProductKey.item(GTIN, "BAG1")
    block = chain.w3.eth.block_number

    with pytest.raises(InvalidInput, match="same product key twice"):
        pp.commission([key, ProductKey.item(GTIN, "BAG2"), ProductKey.item("0" + GTIN, "BAG1")], sender=orgs.producer)

    assert chain.w3.eth.block_number == block
    assert pp.passport(ProductPassports.passport_id(key)) is None
    # The contract would refuse the batch too.
    row = (key.gtin, int(key.kind), key.tier, key.serial_bytes)
    assert_refused(
        chain,
        lambda: chain.transact(pp.contract.functions.commission([row, row], bytes(32), ""), orgs.producer),
        "PassportExists",
        id=shown(ProductPassports.passport_id(key)),
    )


def test_empty_batches_are_refused(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    (case,) = pp.commission([ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer)
    block = chain.w3.eth.block_number

    with pytest.raises(InvalidInput, match="at least one product key"):
        pp.commission([], sender=orgs.producer)
    with pytest.raises(InvalidInput, match="at least one event"):
        pp.record([], sender=orgs.carrier)

    assert chain.w3.eth.block_number == block
    assert_refused(
        chain,
        lambda: chain.transact(pp.contract.functions.commission([], bytes(32), ""), orgs.producer),
        "PassportEmptyBatch",
    )
    assert_refused(
        chain, lambda: chain.transact(pp.contract.functions.recordEvents([]), orgs.carrier), "PassportEmptyBatch"
    )
    assert_refused(chain, lambda: pp.pack(case, [], sender=orgs.carrier), "PassportEmptyBatch")
    assert_refused(chain, lambda: pp.unpack([], sender=orgs.carrier), "PassportEmptyBatch")


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (ProductKey(9506000134352, Kind.ITEM, "BAG1", tier=1), "an item with a tier"),
        (ProductKey(9506000134352, Kind.CONTAINER, "PAL1", tier=0), "a container without a tier"),
        (ProductKey(9506000134352, Kind.CONTAINER, "PAL1", tier=4), "a container above tier 3"),
        (ProductKey(0, Kind.ITEM, "BAG1"), "no GTIN"),
        (ProductKey(10**14, Kind.ITEM, "BAG1"), "a GTIN of 15 digits"),
    ],
    ids=["item-with-tier", "container-tier-0", "container-tier-4", "gtin-0", "gtin-15-digits"],
)
def test_malformed_keys_that_skip_python_checks_are_refused_on_chain(
    chain: Chain, pp: ProductPassports, orgs: Orgs, key: ProductKey, why: str
) -> None:
    assert_refused(
        chain,
        lambda: pp.commission([key], sender=orgs.producer),
        "PassportInvalidKey",
        gtin=f"{key.gtin:014d}",
        serial=repr(key.serial),
    )
    assert pp.passport(ProductPassports.passport_id(key)) is None, why


def test_erc721_interfaces(pp: ProductPassports) -> None:
    supports = pp.contract.functions.supportsInterface

    assert supports(ERC721).call() is True
    assert supports(ERC165).call() is True
    assert supports(bytes.fromhex("ffffffff")).call() is False
    assert supports(bytes.fromhex("12345678")).call() is False


def test_owner_transfers_and_a_stranger_cannot(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    first, second = pp.commission(item_keys(2), sender=orgs.producer)
    transfer = pp.contract.functions.transferFrom

    receipt = chain.transact(transfer(orgs.producer, orgs.retailer, first), orgs.producer)

    assert logs(pp, "Transfer", receipt) == [{"from": orgs.producer, "to": orgs.retailer, "tokenId": first}]
    assert pp.contract.functions.ownerOf(first).call() == orgs.retailer
    assert pp.contract.functions.balanceOf(orgs.producer).call() == 1
    assert pp.contract.functions.balanceOf(orgs.retailer).call() == 1
    record = pp.passport(first)
    assert record is not None and record.owner == orgs.retailer
    # Ownership moved, the lifecycle did not.
    assert (record.state, record.effective_state) == (State.ACTIVE, State.ACTIVE)
    # The former owner and a stranger cannot move it.
    assert_refused(
        chain,
        lambda: chain.transact(transfer(orgs.retailer, orgs.stranger, first), orgs.producer),
        "PassportNotOwnerNorApproved",
        account=orgs.producer,
        id=shown(first),
    )
    assert_refused(
        chain,
        lambda: chain.transact(transfer(orgs.producer, orgs.stranger, second), orgs.stranger),
        "PassportNotOwnerNorApproved",
        account=orgs.stranger,
        id=shown(second),
    )
    assert_refused(
        chain,
        lambda: chain.transact(transfer(orgs.producer, ZERO_ADDRESS, second), orgs.producer),
        "PassportInvalidReceiver",
        receiver=ZERO_ADDRESS,
    )
    # Approved, the stranger can (once: the approval is spent).
    approval = chain.transact(pp.contract.functions.approve(orgs.stranger, second), orgs.producer)
    assert logs(pp, "Approval", approval) == [{"owner": orgs.producer, "approved": orgs.stranger, "tokenId": second}]
    moved = chain.transact(transfer(orgs.producer, orgs.stranger, second), orgs.stranger)
    assert logs(pp, "Transfer", moved) == [{"from": orgs.producer, "to": orgs.stranger, "tokenId": second}]
    assert pp.contract.functions.ownerOf(second).call() == orgs.stranger
    assert pp.contract.functions.getApproved(second).call() == ZERO_ADDRESS
    assert pp.contract.functions.balanceOf(orgs.producer).call() == 0
    unknown = ProductPassports.passport_id(ProductKey.item(GTIN, "NEVER"))
    assert_refused(
        chain, lambda: chain.transact(transfer(orgs.producer, orgs.stranger, unknown), orgs.producer), "PassportUnknown"
    )


def test_a_transfer_naming_another_owner_as_from_is_refused(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    c = pp.contract.functions
    safe = pp.contract.get_function_by_signature("safeTransferFrom(address,address,uint256)")
    chain.transact(c.approve(orgs.carrier, item), orgs.producer)

    # Not the owner itself, nor the account it approved, nor a stranger, nor by a safe
    # transfer: `from` must be the owner, and the refusal names it.
    for sender, wrong_from, send in [
        (orgs.producer, orgs.retailer, c.transferFrom),
        (orgs.carrier, orgs.carrier, c.transferFrom),
        (orgs.stranger, orgs.stranger, c.transferFrom),
        (orgs.producer, orgs.retailer, safe),
    ]:
        assert_refused(
            chain,
            lambda sender=sender, wrong_from=wrong_from, send=send: chain.transact(  # type: ignore[misc]
                send(wrong_from, orgs.retailer, item), sender
            ),
            "PassportWrongOwner",
            id=shown(item),
            owner=orgs.producer,
        )
    assert c.ownerOf(item).call() == orgs.producer
    assert [c.balanceOf(a).call() for a in (orgs.producer, orgs.retailer, orgs.carrier)] == [1, 0, 0]
    assert c.getApproved(item).call() == orgs.carrier  # the approval was not spent

    # With the owner as `from`, the approved carrier moves it; then the former owner is the wrong `from`.
    moved = chain.transact(c.transferFrom(orgs.producer, orgs.retailer, item), orgs.carrier)
    assert logs(pp, "Transfer", moved) == [{"from": orgs.producer, "to": orgs.retailer, "tokenId": item}]
    assert_refused(
        chain,
        lambda: chain.transact(c.transferFrom(orgs.producer, orgs.stranger, item), orgs.retailer),
        "PassportWrongOwner",
        owner=orgs.retailer,
    )
    assert c.ownerOf(item).call() == orgs.retailer


# ------------------------------------------------------------------ who may touch what


@dataclass(frozen=True)
class Scene:
    """Passports ready for each action of the table, all the producer's (commissioned and
    owned by it), held by different parties."""

    own: int  # an item, active, held by the producer
    carried: int  # an item, active, held by the carrier (custody handed over)
    shelved: int  # an item, active, held by the retailer
    moving: int  # an item, in transit, held by the producer
    moving_carried: int  # an item, in transit, held by the carrier
    packed: int  # an item, packed in `case`
    case: int  # a case, active, held by the producer


def scene(pp: ProductPassports, orgs: Orgs) -> Scene:
    keys = [*item_keys(6, "SCENE"), ProductKey.container(CASE_GTIN, "SCENECASE", 1)]
    own, carried, shelved, moving, moving_carried, packed, case = pp.commission(keys, sender=orgs.producer)
    hand_over(pp, carried, orgs.producer, orgs.carrier)
    hand_over(pp, shelved, orgs.producer, orgs.retailer)
    ship(pp, orgs, moving)
    hand_over(pp, moving_carried, orgs.producer, orgs.carrier)
    ship(pp, orgs, moving_carried, by=orgs.carrier)
    pp.pack(case, [packed], sender=orgs.producer)
    return Scene(own, carried, shelved, moving, moving_carried, packed, case)


NEW_KEY = ProductKey.item(GTIN, "NEW1")
NEW_ACCOUNT = "0x" + "00" * 19 + "01"


def step(bizstep: BizStep, disposition: Disposition) -> Callable[[ProductPassports, Scene, int, Sender], object]:
    return lambda pp, s, target, who: pp.record([event(target, bizstep, disposition)], sender=who)


#: Each action of the table, on passport ``target`` of the scene, by caller ``who``.
ACTIONS: dict[str, Callable[[ProductPassports, Scene, int, Sender], object]] = {
    "commission": lambda pp, s, target, who: pp.commission([NEW_KEY], sender=who),
    "inspect": lambda pp, s, target, who: pp.record(
        [event(target, BizStep.INSPECTING, Disposition.NON_CONFORMANT, document=CERTIFICATE)], sender=who
    ),
    "ship": step(BizStep.SHIPPING, Disposition.IN_TRANSIT),
    "receive": step(BizStep.RECEIVING, Disposition.ACTIVE),
    "customs_release": lambda pp, s, target, who: pp.record(
        [event(target, BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, read_point=PORT)], sender=who
    ),
    "customs_hold": lambda pp, s, target, who: pp.record(
        [event(target, BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT, read_point=PORT)], sender=who
    ),
    "sell": step(BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD),
    "recall": step(BizStep.RECALLING, Disposition.RECALLED),
    "decommission": step(BizStep.DECOMMISSIONING, Disposition.INACTIVE),
    "destroy": step(BizStep.DESTROYING, Disposition.DESTROYED),
    # An observation (any role): goods reported stolen on arrival are quarantined.
    "observe": step(BizStep.ARRIVING, Disposition.STOLEN),
    "pack": lambda pp, s, target, who: pp.pack(s.case, [target], sender=who),
    "unpack": lambda pp, s, target, who: pp.unpack([target], sender=who),
    "set_roles": lambda pp, s, target, who: pp.set_roles(NEW_ACCOUNT, Role.CARRIER, sender=who),
}


def effect(pp: ProductPassports, action: str, target: int) -> object:
    """What the action changes, read back from the chain: the roles it sets, or the
    (own state, container) of the passport it acts on."""
    if action == "set_roles":
        return pp.roles_of(NEW_ACCOUNT)
    record = pp.passport(ProductPassports.passport_id(NEW_KEY) if action == "commission" else target)
    return None if record is None else (record.state, record.container)


#: The action's effect on its target, and the event that names its actor.
EXPECTED: dict[str, tuple[Callable[[Scene], object], str]] = {
    "commission": (lambda s: (State.ACTIVE, None), "BatchCommissioned"),
    "inspect": (lambda s: (State.QUARANTINED, None), "PassportEventRecorded"),
    "ship": (lambda s: (State.IN_TRANSIT, None), "PassportEventRecorded"),
    "receive": (lambda s: (State.ACTIVE, None), "PassportEventRecorded"),
    "customs_release": (lambda s: (State.IN_TRANSIT, None), "PassportEventRecorded"),
    "customs_hold": (lambda s: (State.QUARANTINED, None), "PassportEventRecorded"),
    "sell": (lambda s: (State.SOLD, None), "PassportEventRecorded"),
    "recall": (lambda s: (State.RECALLED, None), "PassportEventRecorded"),
    "decommission": (lambda s: (State.DECOMMISSIONED, None), "PassportEventRecorded"),
    "destroy": (lambda s: (State.DECOMMISSIONED, None), "PassportEventRecorded"),
    "observe": (lambda s: (State.QUARANTINED, None), "PassportEventRecorded"),
    "pack": (lambda s: (State.ACTIVE, s.case), "PassportPacked"),
    "unpack": (lambda s: (State.ACTIVE, None), "PassportUnpacked"),
    "set_roles": (lambda s: Role.CARRIER, "RolesSet"),
}

ALL_THREE = "producer, carrier or retailer"
#: A refusal: the custom error and the arguments it shows. Values of ``holder``,
#: ``containerHolder`` and ``producer`` name an organisation, of ``id`` and ``container``
#: a passport of the scene; ``account`` is always the caller (when the error names one).
Refusal = tuple[str, dict[str, str]]


def missing(role: str) -> Refusal:
    return ("PassportMissingRole", {"role": role})


def not_holder(holder: str, id_: str) -> Refusal:
    return ("PassportNotHolder", {"holder": holder, "id": id_})


#: (action, the scene's passport it acts on, caller) -> None if allowed, else the refusal.
#: Physical steps and observations: whoever holds the goods, with the step's role (its
#: producer and owner too are refused once they handed the goods over); inspecting: an
#: inspector, customs steps: customs, on any passport; recalling: the passport's producer
#: or a food-safety authority; packing: the holder of the container and the goods.
ROLE_TABLE: list[tuple[str, str, str, Refusal | None]] = [
    ("commission", "own", "producer", None),
    ("commission", "own", "inspector", missing("producer")),
    ("commission", "own", "retailer", missing("producer")),
    ("commission", "own", "food_safety", missing("producer")),
    ("commission", "own", "stranger", missing("producer")),
    ("inspect", "own", "inspector", None),
    ("inspect", "carried", "inspector", None),
    ("inspect", "own", "producer", missing("inspector")),
    ("inspect", "carried", "carrier", missing("inspector")),
    ("inspect", "own", "customs", missing("inspector")),
    ("inspect", "own", "stranger", missing("any role")),
    ("ship", "own", "producer", None),
    ("ship", "carried", "carrier", None),
    ("ship", "shelved", "retailer", None),
    ("ship", "carried", "producer", not_holder("carrier", "carried")),
    ("ship", "own", "carrier", not_holder("producer", "own")),
    ("ship", "own", "retailer", not_holder("producer", "own")),
    ("ship", "own", "customs", missing(ALL_THREE)),
    ("ship", "own", "inspector", missing(ALL_THREE)),
    ("receive", "moving", "producer", None),
    ("receive", "moving_carried", "carrier", None),
    ("receive", "moving_carried", "retailer", not_holder("carrier", "moving_carried")),
    ("receive", "moving_carried", "producer", not_holder("carrier", "moving_carried")),
    ("receive", "moving", "customs", missing(ALL_THREE)),
    ("customs_release", "moving_carried", "customs", None),
    ("customs_release", "moving", "customs", None),
    ("customs_release", "moving_carried", "carrier", missing("customs")),
    ("customs_release", "moving", "retailer", missing("customs")),
    ("customs_hold", "moving", "customs", None),
    ("customs_hold", "moving", "producer", missing("customs")),
    ("customs_hold", "moving", "inspector", missing("customs")),
    ("sell", "shelved", "retailer", None),
    ("sell", "own", "retailer", not_holder("producer", "own")),
    ("sell", "carried", "retailer", not_holder("carrier", "carried")),
    ("sell", "carried", "carrier", missing("retailer")),
    ("sell", "own", "producer", missing("retailer")),
    ("recall", "own", "producer", None),
    ("recall", "carried", "producer", None),
    ("recall", "shelved", "food_safety", None),
    ("recall", "carried", "food_safety", None),
    ("recall", "shelved", "retailer", missing("producer")),
    ("recall", "carried", "carrier", missing("producer")),
    ("recall", "own", "inspector", missing("producer")),
    ("recall", "own", "stranger", missing("any role")),
    ("decommission", "own", "producer", None),
    ("decommission", "shelved", "retailer", None),
    ("decommission", "shelved", "producer", not_holder("retailer", "shelved")),
    ("decommission", "own", "retailer", not_holder("producer", "own")),
    ("decommission", "carried", "carrier", missing("producer or retailer")),
    ("destroy", "shelved", "retailer", None),
    ("destroy", "own", "retailer", not_holder("producer", "own")),
    ("destroy", "own", "food_safety", missing("producer or retailer")),
    ("observe", "own", "producer", None),
    ("observe", "carried", "carrier", None),
    ("observe", "carried", "customs", not_holder("carrier", "carried")),
    ("observe", "own", "retailer", not_holder("producer", "own")),
    ("observe", "own", "inspector", not_holder("producer", "own")),
    ("observe", "own", "food_safety", not_holder("producer", "own")),
    ("observe", "own", "stranger", missing("any role")),
    ("pack", "own", "producer", None),
    ("pack", "carried", "carrier", not_holder("producer", "case")),
    ("pack", "carried", "producer", ("PassportHeldElsewhere", {"id": "carried", "holder": "carrier",
                                                               "container": "case", "containerHolder": "producer"})),
    ("pack", "own", "stranger", missing("producer, carrier or retailer")),
    ("pack", "own", "retailer", not_holder("producer", "case")),
    ("unpack", "packed", "producer", None),
    ("unpack", "packed", "carrier", not_holder("producer", "case")),
    ("unpack", "packed", "retailer", not_holder("producer", "case")),
    ("unpack", "packed", "inspector", missing(ALL_THREE)),
    ("unpack", "packed", "customs", missing(ALL_THREE)),
    ("set_roles", "own", "governor", None),
    ("set_roles", "own", "producer", ("PassportNotGovernor", {})),
    ("set_roles", "own", "stranger", ("PassportNotGovernor", {})),
]  # fmt: skip
#: The organisations the shown arguments of a refusal name.
NAMED_ORGS = {"holder", "containerHolder", "producer"}


class TestRolesTable:
    """Each action by each kind of caller on passports it holds or not, from one scene
    prepared once per backend."""

    @pytest.fixture(scope="class")
    def prepared(self, orgs_setup: Orgs, world_session: World) -> Iterator[Scene]:
        chain = world_session.chain
        snapshot = chain.snapshot()
        yield scene(ProductPassports.from_deployment(chain, world_session.deployment), orgs_setup)
        chain.revert(snapshot)

    @pytest.mark.parametrize(
        ("action", "target", "caller", "expected"),
        ROLE_TABLE,
        ids=[f"{a}-{t}-by-{c}" for a, t, c, _ in ROLE_TABLE],
    )
    def test_roles_table(
        self,
        chain: Chain,
        pp: ProductPassports,
        orgs: Orgs,
        prepared: Scene,
        action: str,
        target: str,
        caller: str,
        expected: Refusal | None,
    ) -> None:
        s = prepared
        who: Sender = orgs.food_safety if caller == "food_safety" else orgs.by_name(caller)
        address = sender_address(who)
        id_ = getattr(s, target)
        before = effect(pp, action, id_)
        run = ACTIONS[action]

        if expected is None:
            result = run(pp, s, id_, who)
            receipt = last_receipt(chain)
            effect_of, event_name = EXPECTED[action]
            assert effect(pp, action, id_) == effect_of(s)
            if action != "customs_release":  # the only allowed step that leaves the state as it was
                assert effect_of(s) != before
            (emitted,) = logs(pp, event_name, receipt)
            assert emitted.get("actor", emitted.get("producer", emitted.get("account"))) == (
                NEW_ACCOUNT if action == "set_roles" else address
            )
            assert receipt["from"] == address
            if action == "commission":
                assert pp.producer_of(ProductPassports.passport_id(NEW_KEY)) == address
            elif action not in ("set_roles", "pack", "unpack"):
                assert emitted["id"] == id_
            assert result == ([ProductPassports.passport_id(NEW_KEY)] if action == "commission" else receipt)
        else:
            error, shown_args = expected
            revert = assert_refused(chain, lambda: run(pp, s, id_, who), error)
            if "account" in revert.error_args:
                assert revert.error_args["account"] == address
            for name, value in shown_args.items():
                if name in NAMED_ORGS:
                    assert revert.error_args[name] == orgs.by_name(value), name
                elif name in ("id", "container"):
                    assert revert.error_args[name] == shown(getattr(s, value)), name
                else:
                    assert revert.error_args[name] == value, name
            assert effect(pp, action, id_) == before


def retail_sale(pp: ProductPassports, id_: int, by: Sender) -> TxReceipt:
    """``by`` records the retail sale of ``id_`` as it is (no hand-over first, unlike ``sell``)."""
    return pp.record([event(id_, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)], sender=by)


# ---------------------------------------------------------------------- identity gating


def test_a_suspended_producer_cannot_commission_until_reinstated(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, world: World
) -> None:
    bureau = world.roles.bureau
    first = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    key = ProductKey.item(GTIN, "BAG2")

    registry.suspend(orgs.producer, "under_review", sender=bureau)

    assert_refused(
        chain,
        lambda: pp.commission([key], sender=orgs.producer),
        "PassportActorNotVerified",
        account=orgs.producer,
        standing="suspended",
    )
    # Its other acts are refused too, and what it made before is untouched.
    assert_refused(
        chain,
        lambda: pp.record([event(first, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer),
        "PassportActorNotVerified",
    )
    assert pp.passport(ProductPassports.passport_id(key)) is None
    assert states(pp, first) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.roles_of(orgs.producer) == Role.PRODUCER  # the role stays; the identity is what is missing

    registry.reinstate(orgs.producer, sender=bureau)
    ids = pp.commission([key], sender=orgs.producer)

    assert ids == [ProductPassports.passport_id(key)]
    assert logs(pp, "Transfer", last_receipt(chain)) == [{"from": ZERO_ADDRESS, "to": orgs.producer, "tokenId": ids[0]}]
    assert states(pp, *ids) == [(State.ACTIVE, State.ACTIVE)]


def test_a_role_without_an_identity_or_a_revoked_one_is_refused(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, world: World
) -> None:
    pp.set_roles(orgs.stranger, Role.PRODUCER, sender=orgs.governor)

    assert_refused(
        chain,
        lambda: pp.commission([ProductKey.item(GTIN, "BAG1")], sender=orgs.stranger),
        "PassportActorNotVerified",
        account=orgs.stranger,
        standing="never_verified",
    )

    # The carrier holds the goods when its identity is revoked: it can no longer move them.
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    hand_over(pp, item, orgs.producer, orgs.carrier)
    registry.revoke(orgs.carrier, sender=world.roles.bureau)
    assert_refused(
        chain,
        lambda: ship(pp, orgs, item, by=orgs.carrier),
        "PassportActorNotVerified",
        account=orgs.carrier,
        standing="revoked",
    )
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.custodian_of(item) == orgs.carrier


# --------------------------------------------------------------------------- lifecycle


def test_ship_receive_sell_and_not_twice(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    # The carrier takes the goods and ships them; the retailer takes them and receives them.
    hand_over(pp, item, orgs.producer, orgs.carrier)
    assert_refused(chain, lambda: ship(pp, orgs, item), "PassportNotHolder", holder=orgs.carrier, account=orgs.producer)

    shipped = ship(pp, orgs, item, by=orgs.carrier)
    after_ship = states(pp, item)
    hand_over(pp, item, orgs.carrier, orgs.retailer)
    received = receive(pp, orgs, item, by=orgs.retailer)
    after_receive = states(pp, item)
    sold = sell(pp, orgs, item)

    assert after_ship == [(State.IN_TRANSIT, State.IN_TRANSIT)]
    assert after_receive == [(State.ACTIVE, State.ACTIVE)]
    assert states(pp, item) == [(State.SOLD, State.SOLD)]
    assert logs(pp, "PassportEventRecorded", shipped) == [
        recorded(item, orgs.carrier, BizStep.SHIPPING, Disposition.IN_TRANSIT)
    ]
    assert logs(pp, "PassportEventRecorded", received) == [
        recorded(item, orgs.retailer, BizStep.RECEIVING, Disposition.SELLABLE)
    ]
    assert logs(pp, "PassportEventRecorded", sold) == [
        recorded(item, orgs.retailer, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)
    ]
    assert [r["status"] for r in (shipped, received, sold)] == [1, 1, 1]
    revert = assert_refused(
        chain, lambda: sell(pp, orgs, item), "PassportInvalidTransition", state="sold", bizStep="retail_selling"
    )
    assert shown(item) in str(revert)
    assert_refused(chain, lambda: ship(pp, orgs, item, by=orgs.retailer), "PassportInvalidTransition", state="sold")
    assert states(pp, item) == [(State.SOLD, State.SOLD)]


def test_events_in_one_transaction_apply_in_order(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    a, b = pp.commission(item_keys(2), sender=orgs.producer)

    receipt = pp.record(
        [
            event(a, BizStep.SHIPPING, Disposition.IN_TRANSIT),
            event(b, BizStep.SHIPPING, Disposition.IN_TRANSIT),
            event(a, BizStep.RECEIVING, Disposition.ACTIVE, read_point=PORT),
        ],
        sender=orgs.producer,
    )

    assert [(e["id"], e["bizStep"], e["readPoint"]) for e in logs(pp, "PassportEventRecorded", receipt)] == [
        (a, BizStep.SHIPPING, WAREHOUSE),
        (b, BizStep.SHIPPING, WAREHOUSE),
        (a, BizStep.RECEIVING, PORT),
    ]
    assert states(pp, a, b) == [(State.ACTIVE, State.ACTIVE), (State.IN_TRANSIT, State.IN_TRANSIT)]
    # One refused event refuses the whole batch.
    assert_refused(
        chain,
        lambda: pp.record(
            [event(a, BizStep.SHIPPING, Disposition.IN_TRANSIT), event(b, BizStep.SHIPPING, Disposition.IN_TRANSIT)],
            sender=orgs.producer,
        ),
        "PassportInvalidTransition",
        id=shown(b),
        state="in_transit",
    )
    assert states(pp, a, b) == [(State.ACTIVE, State.ACTIVE), (State.IN_TRANSIT, State.IN_TRANSIT)]


def test_non_conformant_inspection_quarantines_until_conformant(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))

    failed = pp.record(
        [event(item, BizStep.INSPECTING, Disposition.NON_CONFORMANT, document=CERTIFICATE)], sender=orgs.inspector
    )

    assert states(pp, item) == [(State.QUARANTINED, State.QUARANTINED)]
    assert logs(pp, "PassportEventRecorded", failed)[0]["documentHash"] == CERTIFICATE
    assert logs(pp, "PassportEventRecorded", failed)[0]["disposition"] == Disposition.NON_CONFORMANT
    assert_refused(chain, lambda: ship(pp, orgs, item), "PassportInvalidTransition", state="quarantined")
    assert_refused(
        chain, lambda: retail_sale(pp, item, orgs.retailer), "PassportInvalidTransition", state="quarantined"
    )

    passed = pp.record([event(item, BizStep.INSPECTING, Disposition.CONFORMANT)], sender=orgs.inspector)

    assert logs(pp, "PassportEventRecorded", passed) == [
        recorded(item, orgs.inspector, BizStep.INSPECTING, Disposition.CONFORMANT)
    ]
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
    ship(pp, orgs, item)
    assert states(pp, item) == [(State.IN_TRANSIT, State.IN_TRANSIT)]


def test_recalled_goods_cannot_be_sold(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    ship(pp, orgs, item)
    hand_over(pp, item, orgs.producer, orgs.retailer)
    receive(pp, orgs, item, by=orgs.retailer)

    # The producer recalls goods it no longer holds.
    recall = pp.record([event(item, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)

    assert logs(pp, "PassportEventRecorded", recall) == [
        recorded(item, orgs.producer, BizStep.RECALLING, Disposition.RECALLED)
    ]
    assert states(pp, item) == [(State.RECALLED, State.RECALLED)]
    assert_refused(chain, lambda: sell(pp, orgs, item), "PassportInvalidTransition", state="recalled")
    assert_refused(chain, lambda: ship(pp, orgs, item, by=orgs.retailer), "PassportInvalidTransition", state="recalled")
    assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer),
        "PassportInvalidTransition",
        bizStep="recalling",
    )
    # Whoever holds the goods takes them out of circulation for good: the retailer, not the producer.
    decommission = [event(item, BizStep.DECOMMISSIONING, Disposition.INACTIVE)]
    assert_refused(
        chain, lambda: pp.record(decommission, sender=orgs.producer), "PassportNotHolder", holder=orgs.retailer
    )
    pp.record(decommission, sender=orgs.retailer)
    assert states(pp, item) == [(State.DECOMMISSIONED, State.DECOMMISSIONED)]


def test_only_the_producer_that_commissioned_a_passport_recalls_it(
    chain: Chain, pp: ProductPassports, orgs: Orgs, world: World
) -> None:
    rival = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    mine = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    (theirs,) = pp.commission([ProductKey.item(GTIN, "BAG2")], sender=rival)

    assert_refused(
        chain,
        lambda: recall(pp, orgs, mine, by=rival),
        "PassportNotItsProducer",
        id=shown(mine),
        producer=orgs.producer,
    )
    assert_refused(chain, lambda: recall(pp, orgs, theirs), "PassportNotItsProducer", id=shown(theirs), producer=rival)
    # One event over both: refused as a whole, even though the first passport is the producer's.
    both = EpcisEvent((mine, theirs), BizStep.RECALLING, Disposition.RECALLED, T0)
    assert_refused(chain, lambda: pp.record([both], sender=orgs.producer), "PassportNotItsProducer", id=shown(theirs))
    assert states(pp, mine, theirs) == [(State.ACTIVE, State.ACTIVE)] * 2

    # Ownership is the title, not the making: the rival owns it now and still cannot recall it ...
    pp.transfer(mine, rival, sender=orgs.producer)
    record = pp.passport(mine)
    assert record is not None and (record.owner, record.producer) == (rival, orgs.producer)
    assert_refused(chain, lambda: recall(pp, orgs, mine, by=rival), "PassportNotItsProducer", producer=orgs.producer)
    # ... while its producer, which no longer owns it, still can.
    recalled = recall(pp, orgs, mine)

    assert logs(pp, "PassportEventRecorded", recalled) == [
        recorded(mine, orgs.producer, BizStep.RECALLING, Disposition.RECALLED)
    ]
    assert logs(pp, "TransformationRecalled", recalled) == []  # nothing was made from it
    assert states(pp, mine, theirs) == [(State.RECALLED, State.RECALLED), (State.ACTIVE, State.ACTIVE)]
    assert pp.contract.functions.ownerOf(mine).call() == rival


#: Every recordable step with a disposition it accepts.
EVERY_STEP = [
    (BizStep.INSPECTING, Disposition.CONFORMANT, "inspector"),
    (BizStep.SHIPPING, Disposition.IN_TRANSIT, "carrier"),
    (BizStep.RECEIVING, Disposition.SELLABLE, "retailer"),
    (BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, "customs"),
    (BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT, "customs"),
    (BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD, "retailer"),
    (BizStep.RECALLING, Disposition.RECALLED, "producer"),
    (BizStep.DECOMMISSIONING, Disposition.INACTIVE, "producer"),
    (BizStep.DECOMMISSIONING, Disposition.INACTIVE, "retailer"),
]


def test_nothing_happens_to_a_decommissioned_passport(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item, case = pp.commission(
        [ProductKey.item(GTIN, "BAG1"), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    hand_over(pp, item, orgs.producer, orgs.retailer)

    done = pp.record([event(item, BizStep.DECOMMISSIONING, Disposition.INACTIVE)], sender=orgs.retailer)

    assert logs(pp, "PassportEventRecorded", done) == [
        recorded(item, orgs.retailer, BizStep.DECOMMISSIONING, Disposition.INACTIVE)
    ]
    assert states(pp, item) == [(State.DECOMMISSIONED, State.DECOMMISSIONED)]
    for step, disposition, actor in EVERY_STEP:
        assert_refused(
            chain,
            lambda step=step, disposition=disposition, actor=actor: pp.record(  # type: ignore[misc]
                [event(item, step, disposition)], sender=orgs.by_name(actor)
            ),
            "PassportInvalidTransition",
            state="decommissioned",
            bizStep=step.label,
        )
    # Nor is it packed (custody aside: its state is checked first), transferred or commissioned again.
    assert_refused(
        chain, lambda: pp.pack(case, [item], sender=orgs.producer), "PassportInvalidTransition", bizStep="packing"
    )
    assert_refused(chain, lambda: pp.unpack([item], sender=orgs.producer), "PassportNotPacked")
    assert_refused(
        chain,
        lambda: pp.transfer(item, orgs.carrier, sender=orgs.producer),
        "PassportInactive",
        id=shown(item),
        state="decommissioned",
    )
    assert_refused(
        chain, lambda: pp.commission([ProductKey.item(GTIN, "BAG1")], sender=orgs.producer), "PassportExists"
    )
    # A decommissioned container takes nothing in either.
    other = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG2"))
    pp.record([event(case, BizStep.DECOMMISSIONING, Disposition.INACTIVE)], sender=orgs.producer)
    assert_refused(
        chain,
        lambda: pp.pack(case, [other], sender=orgs.producer),
        "PassportInvalidTransition",
        id=shown(case),
        state="decommissioned",
        bizStep="packing",
    )
    assert states(pp, item, other) == [(State.DECOMMISSIONED, State.DECOMMISSIONED), (State.ACTIVE, State.ACTIVE)]


#: (step, a disposition it refuses, who records it (holding the goods, unless a regulator),
#: whether the item must be in transit first)
WRONG_DISPOSITIONS = [
    (BizStep.SHIPPING, Disposition.SELLABLE, "carrier", False),
    (BizStep.SHIPPING, Disposition.ACTIVE, "producer", False),
    (BizStep.RECEIVING, Disposition.IN_TRANSIT, "retailer", True),
    (BizStep.RECEIVING, Disposition.RETAIL_SOLD, "carrier", True),
    (BizStep.INSPECTING, Disposition.ACTIVE, "inspector", False),
    (BizStep.INSPECTING, Disposition.RECALLED, "inspector", False),
    (BizStep.CUSTOMS_RELEASING, Disposition.SELLABLE, "customs", True),
    (BizStep.CUSTOMS_HOLDING, Disposition.RECALLED, "customs", True),
    (BizStep.RETAIL_SELLING, Disposition.SELLABLE, "retailer", False),
    (BizStep.RECALLING, Disposition.INACTIVE, "producer", False),
    (BizStep.DECOMMISSIONING, Disposition.RECALLED, "producer", False),
]


@pytest.mark.parametrize(
    ("step", "disposition", "actor", "in_transit"),
    WRONG_DISPOSITIONS,
    ids=[f"{s.label}-{d.label}" for s, d, _, _ in WRONG_DISPOSITIONS],
)
def test_a_wrong_disposition_for_the_step_is_refused(
    chain: Chain,
    pp: ProductPassports,
    orgs: Orgs,
    step: BizStep,
    disposition: Disposition,
    actor: str,
    in_transit: bool,
) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    if in_transit:
        ship(pp, orgs, item)
    if actor in ("carrier", "retailer"):
        hand_over(pp, item, orgs.producer, orgs.by_name(actor))
    before = states(pp, item)

    revert = assert_refused(
        chain,
        lambda: pp.record([event(item, step, disposition)], sender=orgs.by_name(actor)),
        "PassportInvalidDisposition",
        bizStep=step.label,
        disposition=disposition.label,
    )

    assert f"The step {step.label} cannot leave goods {disposition.label}" in str(revert)
    assert states(pp, item) == before


@pytest.mark.parametrize(
    ("step", "disposition", "state"),
    [
        (BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, State.IN_TRANSIT),
        (BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT, State.QUARANTINED),
    ],
)
def test_customs_act_only_on_goods_in_transit(
    chain: Chain, pp: ProductPassports, orgs: Orgs, step: BizStep, disposition: Disposition, state: State
) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    customs = orgs.customs

    assert_refused(
        chain,
        lambda: pp.record([event(item, step, disposition, read_point=PORT)], sender=customs),
        "PassportInvalidTransition",
        state="active",
        bizStep=step.label,
    )
    ship(pp, orgs, item)
    receipt = pp.record([event(item, step, disposition, read_point=PORT)], sender=customs)

    assert logs(pp, "PassportEventRecorded", receipt) == [recorded(item, customs, step, disposition, PORT)]
    assert states(pp, item) == [(state, state)]
    if state is State.IN_TRANSIT:  # released: it travels on and can be received
        receive(pp, orgs, item)
        assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
        assert_refused(
            chain,
            lambda: pp.record([event(item, step, disposition, read_point=PORT)], sender=customs),
            "PassportInvalidTransition",
            state="active",
        )
    else:  # held: it cannot be received or released until an inspection clears it
        assert_refused(chain, lambda: receive(pp, orgs, item), "PassportInvalidTransition", state="quarantined")
        assert_refused(
            chain,
            lambda: pp.record([event(item, BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT)], sender=customs),
            "PassportInvalidTransition",
            state="quarantined",
        )
        pp.record([event(item, BizStep.INSPECTING, Disposition.CONFORMANT)], sender=orgs.inspector)
        assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]


# ------------------------------------------------------------------------- aggregation


@dataclass(frozen=True)
class Load:
    items: list[int]
    case: int
    pallet: int


def load(pp: ProductPassports, orgs: Orgs, count: int = 3) -> Load:
    """``count`` items packed in a case (tier 1), packed in a pallet (tier 2), all held by the producer."""
    keys = [
        *item_keys(count),
        ProductKey.container(CASE_GTIN, "CASE1", 1),
        ProductKey.container(CASE_GTIN, "PAL1", 2),
    ]
    *items, case, pallet = pp.commission(keys, sender=orgs.producer)
    pp.pack(case, items, sender=orgs.producer)
    pp.pack(pallet, [case], sender=orgs.producer)
    return Load(items, case, pallet)


def test_pack_items_into_a_case_and_the_case_into_a_pallet(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    *items, case, pallet = pp.commission(
        [*item_keys(3), ProductKey.container(CASE_GTIN, "CASE1", 1), ProductKey.container(CASE_GTIN, "PAL1", 2)],
        sender=orgs.producer,
    )

    into_case = pp.pack(case, items, event_id=keccak(text="aggregation 1"), sender=orgs.producer)
    # The carrier packs the case into the pallet once it holds both.
    assert_refused(
        chain,
        lambda: pp.pack(pallet, [case], sender=orgs.carrier),
        "PassportNotHolder",
        id=shown(pallet),
        holder=orgs.producer,
        account=orgs.carrier,
    )
    hand_over(pp, pallet, orgs.producer, orgs.carrier)
    assert_refused(
        chain,
        lambda: pp.pack(pallet, [case], sender=orgs.carrier),
        "PassportHeldElsewhere",
        id=shown(case),
        holder=orgs.producer,
        container=shown(pallet),
        containerHolder=orgs.carrier,
    )
    hand_over(pp, case, orgs.producer, orgs.carrier)
    into_pallet = pp.pack(pallet, [case], sender=orgs.carrier)

    assert logs(pp, "PassportPacked", into_case) == [
        {"id": i, "container": case, "actor": orgs.producer, "eventId": keccak(text="aggregation 1")} for i in items
    ]
    assert logs(pp, "PassportPacked", into_pallet) == [
        {"id": case, "container": pallet, "actor": orgs.carrier, "eventId": bytes(32)}
    ]
    for id_, container in [*((i, case) for i in items), (case, pallet)]:
        record = pp.passport(id_)
        assert record is not None
        assert record.container == container
        assert pp.contract.functions.containerOf(id_).call() == container
    assert pp.contract.functions.containerOf(pallet).call() == 0
    assert states(pp, *items, case, pallet) == [(State.ACTIVE, State.ACTIVE)] * 5
    # Whoever holds the outermost container holds everything in it.
    assert [pp.custodian_of(i) for i in (*items, case, pallet)] == [orgs.carrier] * 5


def test_shipping_the_pallet_moves_everything_inside(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    cargo = load(pp, orgs)
    hand_over(pp, cargo.pallet, orgs.producer, orgs.carrier)

    receipt = ship(pp, orgs, cargo.pallet, by=orgs.carrier)

    # One event, on the pallet only: the items' own records are untouched.
    assert logs(pp, "PassportEventRecorded", receipt) == [
        recorded(cargo.pallet, orgs.carrier, BizStep.SHIPPING, Disposition.IN_TRANSIT)
    ]
    assert states(pp, cargo.pallet) == [(State.IN_TRANSIT, State.IN_TRANSIT)]
    assert states(pp, cargo.case, *cargo.items) == [(State.ACTIVE, State.IN_TRANSIT)] * 4
    assert [pp.contract.functions.effectiveState(i).call() for i in cargo.items] == [State.IN_TRANSIT] * 3

    receive(pp, orgs, cargo.pallet, by=orgs.carrier)

    assert states(pp, cargo.pallet, cargo.case, *cargo.items) == [(State.ACTIVE, State.ACTIVE)] * 5


def test_an_event_on_a_container_costs_the_same_whatever_it_holds(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    *items, pallet = pp.commission([*item_keys(20), ProductKey.container(CASE_GTIN, "PAL1", 2)], sender=orgs.producer)
    pp.pack(pallet, items[:2], sender=orgs.producer)

    with_2 = ship(pp, orgs, pallet)
    receive(pp, orgs, pallet)
    pp.pack(pallet, items[2:], sender=orgs.producer)
    with_20 = ship(pp, orgs, pallet)

    assert states(pp, *items) == [(State.ACTIVE, State.IN_TRANSIT)] * 20
    assert logs(pp, "PassportEventRecorded", with_2) == logs(pp, "PassportEventRecorded", with_20)
    assert with_2["gasUsed"] == with_20["gasUsed"]
    # While an event per item grows with their number (here 2 loose items already cost more).
    loose = pp.commission(item_keys(2, "LOOSE"), sender=orgs.producer)
    assert ship(pp, orgs, *loose)["gasUsed"] > with_20["gasUsed"]


def test_a_container_holds_only_lower_tiers(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    cargo = load(pp, orgs, count=1)
    (item,) = cargo.items
    other_case, loose, ship_container = pp.commission(
        [
            ProductKey.container(CASE_GTIN, "CASE2", 1),
            ProductKey.item(GTIN, "LOOSE1"),
            ProductKey.container(CASE_GTIN, "SC1", 3),
        ],
        sender=orgs.producer,
    )

    # The case is inside the pallet: the pallet cannot go into the case.
    assert_refused(
        chain,
        lambda: pp.pack(cargo.case, [cargo.pallet], sender=orgs.producer),
        "PassportCannotHold",
        container=shown(cargo.case),
        containerTier=1,
        id=shown(cargo.pallet),
        tier=2,
    )
    # Equal tiers, itself, and a non-container.
    assert_refused(
        chain,
        lambda: pp.pack(other_case, [cargo.case], sender=orgs.producer),
        "PassportCannotHold",
        containerTier=1,
        tier=1,
    )
    assert_refused(chain, lambda: pp.pack(other_case, [other_case], sender=orgs.producer), "PassportCannotHold")
    assert_refused(
        chain, lambda: pp.pack(loose, [item], sender=orgs.producer), "PassportCannotHold", container=shown(loose)
    )
    assert_refused(
        chain,
        lambda: pp.pack(
            ProductPassports.passport_id(ProductKey.container(CASE_GTIN, "NONE", 1)), [loose], sender=orgs.producer
        ),
        "PassportUnknown",
    )
    assert [pp.contract.functions.containerOf(i).call() for i in (cargo.pallet, other_case, loose)] == [0, 0, 0]
    # A higher tier takes them all; a shipping container takes the pallet.
    receipt = pp.pack(ship_container, [cargo.pallet], sender=orgs.producer)
    assert logs(pp, "PassportPacked", receipt) == [
        {"id": cargo.pallet, "container": ship_container, "actor": orgs.producer, "eventId": bytes(32)}
    ]
    ship(pp, orgs, ship_container)
    assert states(pp, item) == [(State.ACTIVE, State.IN_TRANSIT)]


def test_a_packed_item_cannot_be_packed_again(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    cargo = load(pp, orgs, count=2)
    other_case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "CASE2", 1))

    assert_refused(
        chain,
        lambda: pp.pack(other_case, [cargo.items[0]], sender=orgs.producer),
        "PassportInContainer",
        id=shown(cargo.items[0]),
        container=shown(cargo.case),
    )
    assert_refused(chain, lambda: pp.pack(cargo.case, [cargo.items[1]], sender=orgs.producer), "PassportInContainer")
    assert [pp.contract.functions.containerOf(i).call() for i in cargo.items] == [cargo.case] * 2
    # Unpacked, it can go elsewhere.
    out = pp.unpack([cargo.items[0]], sender=orgs.producer)
    assert logs(pp, "PassportUnpacked", out) == [
        {"id": cargo.items[0], "container": cargo.case, "actor": orgs.producer, "eventId": bytes(32)}
    ]
    pp.pack(other_case, [cargo.items[0]], sender=orgs.producer)
    assert pp.contract.functions.containerOf(cargo.items[0]).call() == other_case
    assert_refused(
        chain, lambda: pp.unpack([other_case], sender=orgs.producer), "PassportNotPacked", id=shown(other_case)
    )


def test_a_packed_item_cannot_move_on_its_own(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    cargo = load(pp, orgs, count=1)
    (item,) = cargo.items

    for move in (
        lambda: ship(pp, orgs, item),
        lambda: retail_sale(pp, item, orgs.retailer),
        lambda: ship(pp, orgs, cargo.case),
    ):
        assert_refused(chain, move, "PassportInContainer")
    # Nor can its goods be handed over on their own: the container's are.
    with pytest.raises(InvalidInput, match="hand over the container"):
        hand_over(pp, item, orgs.producer, orgs.retailer)
    ship(pp, orgs, cargo.pallet)
    hand_over(pp, cargo.pallet, orgs.producer, orgs.retailer)
    assert_refused(
        chain, lambda: receive(pp, orgs, item, by=orgs.retailer), "PassportInContainer", container=shown(cargo.case)
    )
    receive(pp, orgs, cargo.pallet, by=orgs.retailer)
    pp.unpack([cargo.case], sender=orgs.retailer)
    out = pp.unpack([item], sender=orgs.retailer)

    # What comes out is the retailer's to hold, as the container was.
    assert logs(pp, "CustodyTransferred", out) == [{"id": item, "from": orgs.producer, "to": orgs.retailer}]
    assert pp.custodian_of(item) == orgs.retailer
    sold = sell(pp, orgs, item)

    assert logs(pp, "PassportEventRecorded", sold) == [
        recorded(item, orgs.retailer, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)
    ]
    assert states(pp, item) == [(State.SOLD, State.SOLD)]


def test_a_recall_of_the_pallet_reaches_every_item_and_stays_after_unpacking(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    cargo = load(pp, orgs)
    ship(pp, orgs, cargo.pallet)
    hand_over(pp, cargo.pallet, orgs.producer, orgs.retailer)
    receive(pp, orgs, cargo.pallet, by=orgs.retailer)

    recall = pp.record([event(cargo.pallet, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)

    assert logs(pp, "PassportEventRecorded", recall) == [
        recorded(cargo.pallet, orgs.producer, BizStep.RECALLING, Disposition.RECALLED)
    ]
    assert states(pp, cargo.case, *cargo.items) == [(State.ACTIVE, State.RECALLED)] * 4
    assert_refused(
        chain, lambda: retail_sale(pp, cargo.items[0], orgs.retailer), "PassportInvalidTransition", state="recalled"
    )

    out_of_pallet = pp.unpack([cargo.case], sender=orgs.retailer)
    out_of_case = pp.unpack(cargo.items, sender=orgs.retailer)

    assert logs(pp, "PassportUnpacked", out_of_pallet) == [
        {"id": cargo.case, "container": cargo.pallet, "actor": orgs.retailer, "eventId": bytes(32)}
    ]
    assert [e["id"] for e in logs(pp, "PassportUnpacked", out_of_case)] == cargo.items
    # The state each passport takes from its container is an event of its own.
    assert logs(pp, "PassportStateInherited", out_of_pallet) == [
        {"id": cargo.case, "container": cargo.pallet, "actor": orgs.retailer, "state": State.RECALLED}
    ]
    assert logs(pp, "PassportStateInherited", out_of_case) == [
        {"id": i, "container": cargo.case, "actor": orgs.retailer, "state": State.RECALLED} for i in cargo.items
    ]
    assert states(pp, cargo.case, *cargo.items) == [(State.RECALLED, State.RECALLED)] * 4
    assert [pp.passport(i).container for i in cargo.items] == [None] * 3  # type: ignore[union-attr]
    for item in cargo.items:
        assert_refused(chain, lambda item=item: sell(pp, orgs, item), "PassportInvalidTransition", state="recalled")  # type: ignore[misc]


def test_a_customs_hold_of_the_pallet_stays_with_what_is_unpacked(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    cargo = load(pp, orgs, count=2)
    hand_over(pp, cargo.pallet, orgs.producer, orgs.carrier)
    ship(pp, orgs, cargo.pallet, by=orgs.carrier)

    pp.record([event(cargo.pallet, BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT)], sender=orgs.customs)

    assert states(pp, *cargo.items) == [(State.ACTIVE, State.QUARANTINED)] * 2
    pp.unpack([cargo.case], sender=orgs.carrier)
    pp.unpack(cargo.items[:1], sender=orgs.carrier)
    assert states(pp, cargo.case, *cargo.items) == [
        (State.QUARANTINED, State.QUARANTINED),
        (State.QUARANTINED, State.QUARANTINED),
        (State.ACTIVE, State.QUARANTINED),  # still in the held case
    ]
    # Cleared by an inspection, the unpacked item is active again; its sibling in the held case is not.
    pp.record([event(cargo.items[0], BizStep.INSPECTING, Disposition.CONFORMANT)], sender=orgs.inspector)
    assert states(pp, *cargo.items) == [(State.ACTIVE, State.ACTIVE), (State.ACTIVE, State.QUARANTINED)]


def test_a_sold_container_sells_what_it_holds_and_unpacking_keeps_it_sold(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    first, second, case = pp.commission(
        [*item_keys(2), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    pp.pack(case, [first, second], sender=orgs.producer)
    ship(pp, orgs, case)
    receive(pp, orgs, case)

    sold = sell(pp, orgs, case)

    # One event, on the case only; what it holds is sold with it.
    assert logs(pp, "PassportEventRecorded", sold) == [
        recorded(case, orgs.retailer, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)
    ]
    assert states(pp, case, first, second) == [
        (State.SOLD, State.SOLD),
        (State.ACTIVE, State.SOLD),
        (State.ACTIVE, State.SOLD),
    ]
    verdict = pp.verify(item_keys(1)[0])
    assert (verdict.state, verdict.sold, verdict.sold_once, verdict.returned) == (State.SOLD, True, True, False)
    assert_refused(
        chain,
        lambda: retail_sale(pp, first, orgs.retailer),
        "PassportInvalidTransition",
        id=shown(first),
        state="sold",
    )

    out = pp.unpack([first], sender=orgs.retailer)

    assert logs(pp, "PassportUnpacked", out) == [
        {"id": first, "container": case, "actor": orgs.retailer, "eventId": bytes(32)}
    ]
    assert logs(pp, "PassportStateInherited", out) == [
        {"id": first, "container": case, "actor": orgs.retailer, "state": State.SOLD}
    ]
    assert states(pp, first, second) == [(State.SOLD, State.SOLD), (State.ACTIVE, State.SOLD)]
    assert pp.contract.functions.verdictOf(first).call()[:3] == (True, State.SOLD, True)
    other_case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "CASE2", 1))
    for again in (
        lambda: retail_sale(pp, first, orgs.retailer),
        lambda: ship(pp, orgs, first, by=orgs.retailer),
        lambda: pp.pack(other_case, [first], sender=orgs.producer),
    ):
        assert_refused(chain, again, "PassportInvalidTransition", id=shown(first), state="sold")
    # A recall of the case after that reaches what it still holds, not what left it.
    recall(pp, orgs, case)
    assert states(pp, first, second) == [(State.SOLD, State.SOLD), (State.ACTIVE, State.RECALLED)]


def test_one_epcis_event_over_several_passports_logs_each_with_its_event_id(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    a, b, c, idle = pp.commission(item_keys(4), sender=orgs.producer)
    event_id = keccak(text="ni:///sha-256;1f2e3d?ver=CBV2.0")
    shipping = EpcisEvent((a, b, c), BizStep.SHIPPING, Disposition.IN_TRANSIT, T0, PORT, CERTIFICATE, event_id)

    receipt = pp.record([shipping], sender=orgs.producer)

    assert logs(pp, "PassportEventRecorded", receipt) == [
        {**recorded(i, orgs.producer, BizStep.SHIPPING, Disposition.IN_TRANSIT, PORT, event_id=event_id),
         "documentHash": CERTIFICATE}
        for i in (a, b, c)
    ]  # fmt: skip
    assert states(pp, a, b, c, idle) == [(State.IN_TRANSIT, State.IN_TRANSIT)] * 3 + [(State.ACTIVE, State.ACTIVE)]
    # The event id is indexed: a query by it finds the event's logs, one per passport.
    topic = event_topic(load_artifact("ProductPassport").abi, "PassportEventRecorded")
    found = chain.w3.eth.get_logs(
        {"address": pp.address, "fromBlock": 0, "topics": ["0x" + topic.hex(), None, None, "0x" + event_id.hex()]}
    )
    assert [int.from_bytes(bytes(log["topics"][1]), "big") for log in found] == [a, b, c]
    last = pp.trace(b)[-1]
    assert (last.details["biz_step"], last.details["event_id"], last.details["document_hash"]) == (
        "shipping",
        "0x" + event_id.hex(),
        "0x" + CERTIFICATE.hex(),
    )
    assert last.details["read_point"] == "0x" + PORT.hex()

    # The event applies to each passport in turn: one that cannot take it refuses it all.
    receiving = EpcisEvent((a, idle), BizStep.RECEIVING, Disposition.ACTIVE, T0)
    assert_refused(
        chain,
        lambda: pp.record([receiving], sender=orgs.producer),
        "PassportInvalidTransition",
        id=shown(idle),
        state="active",
        bizStep="receiving",
    )
    # An event over no passport: refused before sending, and by the contract, even after a good event.
    empty = EpcisEvent((), BizStep.RECEIVING, Disposition.ACTIVE, T0)
    with pytest.raises(InvalidInput, match="names no passport"):
        pp.record([event(a, BizStep.RECEIVING, Disposition.ACTIVE), empty], sender=orgs.producer)
    with pytest.raises(InvalidInput, match="event id must be 32 bytes"):
        pp.record([event(a, BizStep.RECEIVING, Disposition.ACTIVE, event_id=b"short")], sender=orgs.producer)
    good = event(a, BizStep.RECEIVING, Disposition.ACTIVE).as_tuple()
    raw_empty = (*good[:-1], [])
    assert_refused(
        chain,
        lambda: chain.transact(pp.contract.functions.recordEvents([good, raw_empty]), orgs.producer),
        "PassportEmptyBatch",
    )
    assert states(pp, a, b, c, idle) == [(State.IN_TRANSIT, State.IN_TRANSIT)] * 3 + [(State.ACTIVE, State.ACTIVE)]


def test_trace_includes_container_events_only_while_packed(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item, case, pallet = pp.commission(
        [
            ProductKey.item(GTIN, "BAG1"),
            ProductKey.container(CASE_GTIN, "CASE1", 1),
            ProductKey.container(CASE_GTIN, "PAL1", 2),
        ],
        sender=orgs.producer,
    )
    pp.record([event(pallet, BizStep.INSPECTING, Disposition.CONFORMANT)], sender=orgs.inspector)  # before: not in
    pp.pack(case, [item], sender=orgs.producer)
    pp.pack(pallet, [case], sender=orgs.producer)
    hand_over(pp, pallet, orgs.producer, orgs.carrier)  # the goods inside go with the pallet
    ship(pp, orgs, pallet, by=orgs.carrier)
    pp.record([event(pallet, BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, read_point=PORT)], sender=orgs.customs)
    hand_over(pp, pallet, orgs.carrier, orgs.retailer)
    receive(pp, orgs, pallet, by=orgs.retailer)
    pp.unpack([case], sender=orgs.retailer)  # the case's goods are the retailer's to hold now
    ship(pp, orgs, pallet, by=orgs.retailer)  # the case is out: not in
    pp.record([event(case, BizStep.INSPECTING, Disposition.CONFORMANT)], sender=orgs.inspector)  # via the case
    pp.unpack([item], sender=orgs.retailer)
    pp.record([event(case, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)  # after: not in
    sell(pp, orgs, item)

    journey = pp.trace(item)

    def row(e: TraceEntry) -> tuple[str, str | None, int | None, str]:
        return (e.event, e.details.get("biz_step"), e.via_container, e.actor)

    # Handovers of its containers while it was in them are part of its journey (the actor
    # of a handover is who took the goods).
    assert [row(e) for e in journey] == [
        ("PassportCommissioned", None, None, orgs.producer),
        ("PassportPacked", None, None, orgs.producer),
        ("CustodyTransferred", None, pallet, orgs.carrier),
        ("PassportEventRecorded", "shipping", pallet, orgs.carrier),
        ("PassportEventRecorded", "customs_releasing", pallet, orgs.customs),
        ("CustodyTransferred", None, pallet, orgs.retailer),
        ("PassportEventRecorded", "receiving", pallet, orgs.retailer),
        ("CustodyTransferred", None, case, orgs.retailer),
        ("PassportEventRecorded", "inspecting", case, orgs.inspector),
        ("CustodyTransferred", None, None, orgs.retailer),
        ("PassportUnpacked", None, None, orgs.retailer),
        ("PassportEventRecorded", "retail_selling", None, orgs.retailer),
    ]
    assert all(e.passport == item for e in journey if e.via_container is None)
    assert [e.passport for e in journey if e.via_container is not None] == [pallet] * 5 + [case] * 2
    positions = [(e.block_number, e.transaction_index, e.log_index) for e in journey]
    assert positions == sorted(positions)
    customs = journey[4]
    assert customs.details["read_point"] == "0x" + PORT.hex()
    assert customs.details["document_hash"] == customs.details["event_id"] == "0x" + "00" * 32
    assert customs.details["event_time"] == "2026-01-01T00:00:00Z"
    assert journey[3].to_json()["via_container"] == hex(pallet)
    assert (journey[5].details["from"], journey[9].details["from"]) == (orgs.carrier, orgs.producer)
    # The item was recalled only through the case, after it left it: its state says so.
    assert states(pp, item) == [(State.SOLD, State.SOLD)]


def mine_together(chain: Chain, sends: list[Callable[[], Any]]) -> None:
    """Send each transaction (explicit gas: no estimate against the state before the block)
    and mine them all, in this order, into one block."""
    chain.set_automine(False)
    try:
        hashes = [send() for send in sends]
        chain.mine()
    finally:
        chain.set_automine(True)
    receipts = [chain.w3.eth.wait_for_transaction_receipt(h, timeout=10) for h in hashes]
    assert [r["status"] for r in receipts] == [1] * len(sends)
    assert len({r["blockNumber"] for r in receipts}) == 1
    indexes = [r["transactionIndex"] for r in receipts]
    assert indexes == sorted(indexes)


def test_trace_windows_hold_within_a_block(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item, other, pallet = pp.commission(
        [ProductKey.item(GTIN, "BAG1"), ProductKey.item(GTIN, "BAG2"), ProductKey.container(CASE_GTIN, "PAL1", 2)],
        sender=orgs.producer,
    )
    c = pp.contract.functions
    # Different senders: the embedded EVM gives queued transactions of one sender the same nonce.
    # The first of each block pays more, as Ganache orders a block by fee and breaks ties
    # arbitrarily (ganache#899). The producer holds the goods (it packs and unpacks); the
    # inspector records events on the pallet without holding it.
    first: TxParams = {"gas": 500_000, "gasPrice": Wei(3 * 10**9)}
    second: TxParams = {"gas": 500_000, "gasPrice": Wei(2 * 10**9)}
    # Two events, so that the pallet's comes second in its transaction (the embedded EVM
    # numbers logs per transaction: a log index alone would put it after the packing).
    inspected = [event(i, BizStep.INSPECTING, Disposition.CONFORMANT).as_tuple() for i in (other, pallet)]
    inspected_again = [event(pallet, BizStep.INSPECTING, Disposition.CONFORMANT).as_tuple()]

    # In one block: the pallet is inspected, then the item packed into it ...
    mine_together(
        chain,
        [
            lambda: c.recordEvents(inspected).transact({**first, "from": orgs.inspector}),
            lambda: c.pack(pallet, [item, other], bytes(32)).transact({**second, "from": orgs.producer}),
        ],
    )
    ship(pp, orgs, pallet)
    receive(pp, orgs, pallet)
    # ... and in one block: the item is unpacked (second), then the pallet inspected again.
    mine_together(
        chain,
        [
            lambda: c.unpack([other, item], bytes(32)).transact({**first, "from": orgs.producer}),
            lambda: c.recordEvents(inspected_again).transact({**second, "from": orgs.inspector}),
        ],
    )

    journey = pp.trace(item)

    assert [(e.event, e.details.get("biz_step"), e.via_container) for e in journey] == [
        ("PassportCommissioned", None, None),
        ("PassportPacked", None, None),
        ("PassportEventRecorded", "shipping", pallet),
        ("PassportEventRecorded", "receiving", pallet),
        ("PassportUnpacked", None, None),
    ]
    # The windows' edges really shared a block with the pallet events left out.
    packed, unpacked = journey[1], journey[4]
    left_out = [e for e in pp.trace(pallet) if e.block_number in (packed.block_number, unpacked.block_number)]
    assert [(e.details.get("biz_step"), e.block_number) for e in left_out] == [
        ("inspecting", packed.block_number),
        ("inspecting", unpacked.block_number),
    ]
    assert left_out[0].transaction_index < packed.transaction_index
    assert left_out[1].transaction_index > unpacked.transaction_index
    assert states(pp, item, other, pallet) == [(State.ACTIVE, State.ACTIVE)] * 3


# ------------------------------------------------------------------------------ verify


def test_verify_a_genuine_passport(pp: ProductPassports, orgs: Orgs) -> None:
    key = ProductKey.item(GTIN, "BAG1")
    item = commission_one(pp, orgs, key)
    ship(pp, orgs, item)
    receive(pp, orgs, item)

    verdict = pp.verify(key)

    assert (verdict.key, verdict.id, verdict.genuine) == (key, item, True)
    assert (verdict.producer, verdict.producer_standing) == (orgs.producer, Standing.VALID)
    assert verdict.brand == Brand("9506000", orgs.producer)
    assert (verdict.state, verdict.recalled, verdict.sold) == (State.ACTIVE, False, False)
    assert (verdict.sold_once, verdict.returned) == (False, False)
    assert [(e.event, e.details.get("biz_step"), e.actor) for e in verdict.journey] == [
        ("PassportCommissioned", None, orgs.producer),
        ("PassportEventRecorded", "shipping", orgs.producer),
        ("PassportEventRecorded", "receiving", orgs.producer),
    ]
    # Nobody accepted custody: the producer, its owner, still holds the goods.
    assert (verdict.custodian, verdict.recall_source) == (orgs.producer, None)
    # The contract's verdict, as a struct: genuine, state, sold once, producer, its standing, custodian.
    assert pp.contract.functions.verdictOf(item).call() == (
        True, State.ACTIVE, False, orgs.producer, Standing.VALID, orgs.producer
    )  # fmt: skip
    as_json = verdict.to_json()
    assert (as_json["code"], as_json["genuine"], as_json["state"]) == ("(01)09506000134352(21)BAG1", True, "active")
    assert as_json["brand"] == {"prefix": "9506000", "licensee": orgs.producer}
    assert (as_json["sold"], as_json["returned"]) == (False, False)
    assert (as_json["producer_standing"], as_json["custodian"], as_json["recall_source"]) == (
        "valid",
        orgs.producer,
        None,
    )


def test_verify_an_uncommissioned_code(pp: ProductPassports, orgs: Orgs) -> None:
    commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    fake = ProductKey.item(GTIN, "BAG2")

    verdict = pp.verify(fake)

    assert verdict.id == ProductPassports.passport_id(fake)
    assert (verdict.genuine, verdict.producer, verdict.producer_standing) == (False, None, None)
    # The code is under the producer's prefix: the brand is named, and the code is still not genuine.
    assert (verdict.brand, verdict.sold_once) == (Brand("9506000", orgs.producer), False)
    assert pp.contract.functions.verdictOf(verdict.id).call() == (
        False,
        State.NONE,
        False,
        ZERO_ADDRESS,
        0,
        ZERO_ADDRESS,
    )
    assert (verdict.state, verdict.journey) == (State.NONE, ())
    assert pp.passport(verdict.id) is None


def test_verify_a_sold_item_scanned_again_shows_sold(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    key = ProductKey.item(GTIN, "BAG1")
    item = commission_one(pp, orgs, key)
    sell(pp, orgs, item)

    verdict = pp.verify(key)

    # The code is genuine, but its product was sold already: a second copy of it is a clone.
    assert (verdict.genuine, verdict.state, verdict.sold, verdict.sold_once) == (True, State.SOLD, True, True)
    assert verdict.journey[-1].details["biz_step"] == "retail_selling"
    assert verdict.to_json()["sold"] is True
    assert_refused(chain, lambda: sell(pp, orgs, item), "PassportInvalidTransition", state="sold")


def test_verify_an_item_in_a_recalled_pallet_shows_recalled(pp: ProductPassports, orgs: Orgs) -> None:
    cargo = load(pp, orgs, count=1)
    key = item_keys(1)[0]

    pp.record([event(cargo.pallet, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)
    verdict = pp.verify(key)

    assert (verdict.genuine, verdict.state, verdict.recalled) == (True, State.RECALLED, True)
    assert (verdict.journey[-1].details["biz_step"], verdict.journey[-1].via_container) == ("recalling", cargo.pallet)
    assert states(pp, verdict.id) == [(State.ACTIVE, State.RECALLED)]
    # The recall was recorded on the pallet, which the carrier's pallet still holds for the producer.
    assert (verdict.recall_source, verdict.custodian) == (cargo.pallet, orgs.producer)
    assert verdict.to_json()["recall_source"] == hex(cargo.pallet)


def test_a_verdict_stays_genuine_when_the_producer_is_suspended_or_loses_its_role(
    pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, world: World
) -> None:
    """Genuine is a fact about origin: the producer's standing today is shown beside it."""
    key = ProductKey.item(GTIN, "BAG1")
    item = commission_one(pp, orgs, key)

    registry.suspend(orgs.producer, "under_review", sender=world.roles.bureau)
    suspended = pp.verify(key)
    registry.reinstate(orgs.producer, sender=world.roles.bureau)
    reinstated = pp.verify(key)
    pp.set_roles(orgs.producer, Role(0), sender=orgs.governor)
    no_role = pp.verify(key)

    assert (suspended.genuine, suspended.producer, suspended.producer_standing) == (
        True,
        orgs.producer,
        Standing.SUSPENDED,
    )
    assert suspended.state is State.ACTIVE
    assert suspended.to_json()["producer_standing"] == "suspended"
    assert (reinstated.genuine, reinstated.producer_standing) == (True, Standing.VALID)
    assert (no_role.genuine, no_role.producer_standing) == (True, Standing.VALID)
    assert pp.contract.functions.verdictOf(item).call()[:5] == (
        True,
        State.ACTIVE,
        False,
        orgs.producer,
        Standing.VALID,
    )


# ------------------------------------------------------------------------------ refusals

PASSPORT_ERRORS = [e for e in load_artifact("ProductPassport").abi if e["type"] == "error"]


ERROR_CASES = [pytest.param(e, id=e["name"]) for e in PASSPORT_ERRORS]
#: Samples by argument name where the type alone would give a meaningless value.
NAMED_SAMPLES: dict[str, Any] = {"nowTime": T0 + 60, "prefix": 9506000, "length": 7}


@pytest.mark.parametrize("entry", ERROR_CASES)
def test_every_passport_error_decodes_to_a_sentence(entry: dict[str, Any]) -> None:
    samples: dict[str, Any] = {
        "address": "0x" + "ab" * 20,
        "uint8": 3,
        "uint24": 2,
        "uint40": 1_767_225_600,
        "uint64": 9506000134352,
        "uint256": int.from_bytes(keccak(text="a passport"), "big"),
        "bytes32": b"LOT-7".ljust(32, b"\0"),
    }
    names = [i["name"] for i in entry["inputs"]]
    types = [i["type"] for i in entry["inputs"]]
    values = [NAMED_SAMPLES.get(n, samples[t]) for n, t in zip(names, types, strict=True)]
    data = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})") + abi_encode(types, values)

    revert = decode_revert(data)

    assert entry["name"].startswith("Passport")
    assert entry["name"] in MESSAGES
    assert revert is not None and revert.error == entry["name"]
    assert set(revert.error_args) == {i["name"] for i in entry["inputs"]}
    assert_readable(revert)
    message = str(revert)
    assert "refused:" not in message and "=" not in message
    for name, type_ in zip(revert.error_args, types, strict=True):
        if name == "prefix":  # a prefix: its digits, leading zeros included
            assert revert.error_args[name] == str(NAMED_SAMPLES[name]).zfill(NAMED_SAMPLES["length"])
            assert str(NAMED_SAMPLES[name]) in message
        elif name in NAMED_SAMPLES:  # a time or a length: shown as the number it is
            assert revert.error_args[name] == NAMED_SAMPLES[name]
            assert str(NAMED_SAMPLES[name]) in message
        elif type_ == "uint256":  # a passport
            assert revert.error_args[name] == shown(samples["uint256"])
            assert shown(samples["uint256"]) in message
        if name in ENUM_NAMES:
            assert revert.error_args[name] == ENUM_NAMES[name][3]
        if type_ == "uint40":
            assert str(samples["uint40"]) in message
        if type_ == "address":
            assert revert.error_args[name] == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
            assert revert.error_args[name] in message
    if "serial" in revert.error_args:
        assert "'LOT-7'" in message and "09506000134352" in message


HASH_ERRORS = [e for e in PASSPORT_ERRORS if any(i["type"] == "bytes32" and i["name"] != "serial" for i in e["inputs"])]


@pytest.mark.parametrize("entry", HASH_ERRORS, ids=lambda e: e["name"])
def test_hash_arguments_are_not_shown_as_raw_hex_or_addresses(entry: dict[str, Any]) -> None:
    """A transformation id or signature value is a 32-byte hash: the sentence must not show
    it as raw hex whose first 40 digits read as an (unchecksummed) address."""
    samples = {
        "address": "0x" + "ab" * 20,
        "uint8": 16,
        "uint256": int.from_bytes(keccak(text="a passport"), "big"),
        "bytes32": keccak(text="urn:uuid:mill-run-2026-11-27"),
    }
    types = [i["type"] for i in entry["inputs"]]
    data = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})") + abi_encode(
        types, [samples[t] for t in types]
    )

    revert = decode_revert(data)

    assert revert is not None and revert.error == entry["name"]
    assert_readable(revert)


def test_every_enum_argument_of_an_error_is_decoded_by_its_own_enums_names() -> None:
    """Error decoding names enum arguments from chainpass.enums: each enum-typed argument
    of every error in both ABIs is named from the enum its type names, by argument name."""
    enum_args = {
        (arg["name"], arg["internalType"].rpartition(".")[2])
        for contract in ("IdentityRegistry", "ProductPassport")
        for entry in load_artifact(contract).abi
        if entry["type"] == "error"
        for arg in entry["inputs"]
        if arg["internalType"].startswith("enum ")
    }

    # The passports pass a holder's standing in the registry as a uint8.
    assert {name for name, _enum in enum_args} | {"standing"} == set(ENUM_NAMES)
    for name, enum in [*enum_args, ("standing", "Standing")]:
        assert ENUM_NAMES[name] == tuple(label_of(m) for m in getattr(enums, enum)), name


def label_of(member: enums.NamedEnum) -> str:
    return enums.STATUS_PHRASES[member] if isinstance(member, enums.Status) else member.label


def test_role_names_match_the_python_roles() -> None:
    assert FLAG_NAMES["role"][:5] == ("producer", "inspector", "carrier", "customs", "retailer")
    assert [1 << i for i in range(len(FLAG_NAMES["role"]))] == [int(m) for m in Role]


@pytest.mark.parametrize(
    ("role", "shown_as"),
    [
        (0, "any role"),
        (1, "producer"),
        (4 | 1, "producer or carrier"),
        (1 | 4 | 16, "producer, carrier or retailer"),
        (32, "registrar"),
        (1 | 64, "producer or food_safety"),
    ],
)
def test_missing_role_names_the_roles(role: int, shown_as: str) -> None:
    data = function_signature_to_4byte_selector("PassportMissingRole(address,uint8)") + abi_encode(
        ["address", "uint8"], ["0x" + "ab" * 20, role]
    )

    revert = decode_revert(data)

    assert revert is not None
    assert revert.error_args["role"] == shown_as
    assert f"({shown_as})" in str(revert)


HOLDER = "0x" + "12" * 20
ACCOUNT = "0x" + "34" * 20


@pytest.mark.parametrize(
    ("error", "types", "values", "says"),
    [
        (
            "PassportNotHolder",
            ["uint256", "address", "address"],
            [2**255 + 7, HOLDER, ACCOUNT],
            ["Only " + to_checksum_address(HOLDER), "not " + to_checksum_address(ACCOUNT), "take custody first"],
        ),
        ("PassportEventInFuture", ["uint40", "uint256"], [T0 + 3600, T0], [str(T0 + 3600), str(T0), "15 minutes"]),
        ("PassportNotItsProducer", ["uint256", "address"], [7, HOLDER], [to_checksum_address(HOLDER), "food-safety"]),
        (
            "PassportCustodianInForce",
            ["uint256", "address"],
            [7, HOLDER],
            [to_checksum_address(HOLDER), "revoked", "the governor for a repair"],
        ),
        ("PassportInactive", ["uint256", "uint8"], [7, State.CONSUMED], ["consumed"]),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("Passport") else "",
)
def test_the_refusals_of_issue_11_say_who_may_act_and_what_to_do(
    error: str, types: list[str], values: list[Any], says: list[str]
) -> None:
    data = function_signature_to_4byte_selector(f"{error}({','.join(types)})") + abi_encode(types, values)

    revert = decode_revert(data)

    assert revert is not None and revert.error == error
    assert_readable(revert)
    for fragment in says:
        assert fragment in str(revert), (fragment, str(revert))


# ------------------------------------------------ consignments move as one


def test_customs_acts_on_the_container_not_on_one_item_inside(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "CASE1", 1))
    pp.pack(case, [item], sender=orgs.producer)
    ship(pp, orgs, case)

    for step, disposition in [(BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT),
                              (BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT)]:  # fmt: skip
        assert_refused(
            chain,
            lambda step=step, disposition=disposition: pp.record(  # type: ignore[misc]
                [event(item, step, disposition)], sender=orgs.customs
            ),
            "PassportInContainer",
        )
    assert states(pp, item) == [(State.ACTIVE, State.IN_TRANSIT)]


def test_goods_unpacked_from_a_travelling_container_are_still_in_transit(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "CASE1", 1))
    pp.pack(case, [item], sender=orgs.producer)
    ship(pp, orgs, case)

    out = pp.unpack([item], sender=orgs.producer)

    assert logs(pp, "PassportStateInherited", out) == [
        {"id": item, "container": case, "actor": orgs.producer, "state": State.IN_TRANSIT}
    ]
    assert states(pp, item) == [(State.IN_TRANSIT, State.IN_TRANSIT)]
    hand_over(pp, item, orgs.producer, orgs.retailer)
    assert_refused(chain, lambda: retail_sale(pp, item, orgs.retailer), "PassportInvalidTransition", state="in_transit")
    receive(pp, orgs, item, by=orgs.retailer)
    sell(pp, orgs, item)
    assert states(pp, item) == [(State.SOLD, State.SOLD)]


def test_a_decommissioned_item_can_still_leave_its_container(pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "CASE1", 1))
    pp.pack(case, [item], sender=orgs.producer)
    pp.record([event(item, BizStep.DECOMMISSIONING, Disposition.INACTIVE)], sender=orgs.producer)

    pp.unpack([item], sender=orgs.producer)

    record = pp.passport(item)
    assert record is not None and record.container is None and record.state is State.DECOMMISSIONED


# ------------------------------------------------------------ issue 11: the smaller findings


def test_an_observation_on_a_packed_item_does_not_write_its_containers_state_into_it(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    """Issue 11: an observation on a packed item wrote its container's state into the item,
    so it stayed in transit after the case was received."""
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "CASE1", 1))
    pp.pack(case, [item], sender=orgs.producer)
    hand_over(pp, case, orgs.producer, orgs.carrier)
    ship(pp, orgs, case, by=orgs.carrier)

    # The carrier, holding the case, reports a sensor reading on the item inside.
    reading = pp.record([event(item, BizStep.SENSOR_REPORTING, Disposition.UNKNOWN)], sender=orgs.carrier)

    assert logs(pp, "PassportEventRecorded", reading) == [
        recorded(item, orgs.carrier, BizStep.SENSOR_REPORTING, Disposition.UNKNOWN)
    ]
    assert states(pp, item) == [(State.ACTIVE, State.IN_TRANSIT)]  # its own state untouched
    receive(pp, orgs, case, by=orgs.carrier)
    assert states(pp, case, item) == [(State.ACTIVE, State.ACTIVE)] * 2
    out = pp.unpack([item], sender=orgs.carrier)
    assert logs(pp, "PassportStateInherited", out) == []
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
    sold = sell(pp, orgs, item)
    assert [e["bizStep"] for e in logs(pp, "PassportEventRecorded", sold)] == [BizStep.RETAIL_SELLING]


def test_a_sold_item_quarantined_and_cleared_stays_sold_once(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    """Issue 11: sold -> quarantined -> active erased the sale that clone detection relies on.
    A returned item is shown as sold and returned."""
    key = ProductKey.item(GTIN, "BAG1")
    item = commission_one(pp, orgs, key)
    assert pp.contract.functions.passportOf(item).call()[7] == 0  # flags: the last of 8 fields
    sell(pp, orgs, item)
    assert pp.contract.functions.passportOf(item).call()[7] == 0b11  # custody moved, sold once

    # The customer brings it back damaged; the retailer, holding it, records so; an inspection clears it.
    back = pp.record([event(item, BizStep.ACCEPTING, Disposition.DAMAGED)], sender=orgs.retailer)
    assert states(pp, item) == [(State.QUARANTINED, State.QUARANTINED)]
    pp.record([event(item, BizStep.INSPECTING, Disposition.CONFORMANT)], sender=orgs.inspector)

    verdict = pp.verify(key)
    assert logs(pp, "PassportEventRecorded", back) == [
        recorded(item, orgs.retailer, BizStep.ACCEPTING, Disposition.DAMAGED)
    ]
    assert (verdict.genuine, verdict.state) == (True, State.ACTIVE)
    assert (verdict.sold_once, verdict.sold, verdict.returned) == (True, True, True)
    assert (verdict.to_json()["sold"], verdict.to_json()["returned"]) == (True, True)
    owner, kind, state, tier, packed, _producer, origin, flags = pp.contract.functions.passportOf(item).call()
    assert (owner, kind, state, tier, packed, origin, flags) == (orgs.producer, Kind.ITEM, State.ACTIVE, 0, False, 0, 3)
    assert pp.contract.functions.verdictOf(item).call()[:3] == (True, State.ACTIVE, True)

    # Sold again, it is sold, and no longer "returned".
    retail_sale(pp, item, orgs.retailer)
    again = pp.verify(key)
    assert (again.state, again.sold_once, again.sold, again.returned) == (State.SOLD, True, True, False)


def test_event_times_beyond_the_clock_skew_are_refused(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    """Issue 11: event times could lie in the future. Up to MAX_CLOCK_SKEW (15 minutes)
    ahead of chain time is allowed: the actors' clocks drift."""
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    now = chain.latest_timestamp()  # the commissioning's block: chain time now, within seconds
    skew = pp.contract.functions.MAX_CLOCK_SKEW().call()
    too_late = now + skew + 600

    revert = assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.SHIPPING, Disposition.IN_TRANSIT, at=too_late)], sender=orgs.producer),
        "PassportEventInFuture",
        eventTime=too_late,
    )

    assert skew == 15 * 60
    assert now <= revert.error_args["nowTime"] <= now + 300
    assert str(too_late) in str(revert)
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
    within = now + skew - 300
    shipped = pp.record([event(item, BizStep.SHIPPING, Disposition.IN_TRANSIT, at=within)], sender=orgs.producer)
    assert [(e["id"], e["eventTime"]) for e in logs(pp, "PassportEventRecorded", shipped)] == [(item, within)]
    assert states(pp, item) == [(State.IN_TRANSIT, State.IN_TRANSIT)]
    # One event in the future refuses its whole batch.
    batch = [
        event(item, BizStep.RECEIVING, Disposition.ACTIVE),
        event(item, BizStep.SHIPPING, Disposition.IN_TRANSIT, at=too_late),
    ]
    assert_refused(chain, lambda: pp.record(batch, sender=orgs.producer), "PassportEventInFuture")
    assert states(pp, item) == [(State.IN_TRANSIT, State.IN_TRANSIT)]


def test_consumed_or_decommissioned_passports_cannot_be_transferred(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    """Issue 11: consumed or decommissioned passports could still be transferred."""
    gone, used, kept = pp.commission(item_keys(3), sender=orgs.producer)
    pp.record([event(gone, BizStep.DECOMMISSIONING, Disposition.INACTIVE)], sender=orgs.producer)
    (flour,) = pp.transform(
        keccak(text="mill run 2026-11-27"), [used], [ProductKey.lot(GTIN, "FLOUR-1")], sender=orgs.producer
    )
    c = pp.contract.functions
    safe = pp.contract.get_function_by_signature("safeTransferFrom(address,address,uint256)")

    for id_, state in ((gone, "decommissioned"), (used, "consumed")):
        for send in (c.transferFrom, safe):
            assert_refused(
                chain,
                lambda id_=id_, send=send: chain.transact(send(orgs.producer, orgs.retailer, id_), orgs.producer),  # type: ignore[misc]
                "PassportInactive",
                id=shown(id_),
                state=state,
            )
        assert c.ownerOf(id_).call() == orgs.producer

    assert c.balanceOf(orgs.producer).call() == 4  # three items and the lot made from one
    assert c.balanceOf(orgs.retailer).call() == 0
    # What is still live moves as before: an item, and the lot made from the consumed one.
    moved = pp.transfer(kept, orgs.retailer, sender=orgs.producer)
    assert logs(pp, "Transfer", moved) == [{"from": orgs.producer, "to": orgs.retailer, "tokenId": kept}]
    pp.transfer(flour, orgs.retailer, sender=orgs.producer)
    assert [c.ownerOf(i).call() for i in (gone, used, kept, flour)] == [orgs.producer] * 2 + [orgs.retailer] * 2


def test_an_unrelated_verified_retailer_cannot_touch_a_producers_passports(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    """Issue 11's attacks: an unrelated (verified, with its role) retailer destroyed 50 of a
    producer's passports in one transaction, sold an item still in the producer's warehouse
    (it then scanned as a clone), quarantined goods and moved them in and out of transit with
    observations, and could pack and unpack. Each is refused now: it does not hold the goods."""
    stock = pp.commission(item_keys(50, "STOCK"), sender=orgs.producer)
    item, case = pp.commission(
        [ProductKey.item(GTIN, "BAG1"), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    pp.pack(case, [item], sender=orgs.producer)
    first = stock[0]

    def by_retailer(step: BizStep, disposition: Disposition, ids: tuple[int, ...] = (first,)) -> Callable[[], object]:
        return lambda: pp.record([EpcisEvent(ids, step, disposition, T0)], sender=orgs.retailer)

    attacks: list[tuple[Callable[[], object], str, dict[str, object]]] = [
        (
            by_retailer(BizStep.DESTROYING, Disposition.DESTROYED, tuple(stock)),
            "PassportNotHolder",
            {"id": shown(first)},
        ),
        (by_retailer(BizStep.DECOMMISSIONING, Disposition.INACTIVE), "PassportNotHolder", {"id": shown(first)}),
        (by_retailer(BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD), "PassportNotHolder", {"id": shown(first)}),
        (by_retailer(BizStep.ARRIVING, Disposition.STOLEN), "PassportNotHolder", {"id": shown(first)}),
        (by_retailer(BizStep.DEPARTING, Disposition.IN_TRANSIT), "PassportNotHolder", {"id": shown(first)}),
        (by_retailer(BizStep.SHIPPING, Disposition.IN_TRANSIT), "PassportNotHolder", {"id": shown(first)}),
        (lambda: pp.unpack([item], sender=orgs.retailer), "PassportNotHolder", {"id": shown(case)}),
        (lambda: pp.pack(case, [first], sender=orgs.retailer), "PassportNotHolder", {"id": shown(case)}),
        # Not its role at all: recalling (its producer's, or a food-safety authority's).
        (by_retailer(BizStep.RECALLING, Disposition.RECALLED), "PassportMissingRole", {"role": "producer"}),
    ]
    for attack, error, args in attacks:
        revert = assert_refused(chain, attack, error, account=orgs.retailer, **args)
        if error == "PassportNotHolder":
            assert revert.error_args["holder"] == orgs.producer

    assert {pp.contract.functions.effectiveState(i).call() for i in stock} == {State.ACTIVE}
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.contract.functions.containerOf(item).call() == case
    verdict = pp.verify(item_keys(1, "STOCK")[0])
    assert (verdict.genuine, verdict.state, verdict.sold) == (True, State.ACTIVE, False)
    assert [e.event for e in verdict.journey] == ["PassportCommissioned"]
    # Title alone is not holding: the retailer that owns the passport still cannot sell goods
    # the producer holds; once it takes them, it can.
    pp.transfer(first, orgs.retailer, sender=orgs.producer)
    assert_refused(
        chain, by_retailer(BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD), "PassportNotHolder", holder=orgs.producer
    )
    hand_over(pp, first, orgs.producer, orgs.retailer)
    sold = by_retailer(BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)()
    assert logs(pp, "PassportEventRecorded", sold) == [
        recorded(first, orgs.retailer, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD, bytes(32))
    ]
    assert states(pp, first) == [(State.SOLD, State.SOLD)]


def test_a_food_safety_authority_recalls_any_product_and_handles_no_goods(
    chain: Chain, pp: ProductPassports, orgs: Orgs, world: World
) -> None:
    rival = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    mine = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    (theirs,) = pp.commission([ProductKey.item(GTIN, "BAG2")], sender=rival)
    authority = orgs.food_safety
    hand_over(pp, mine, orgs.producer, orgs.retailer)  # wherever the goods are

    # One order over two producers' products, with the authority's identity on each event.
    order = pp.record([EpcisEvent((mine, theirs), BizStep.RECALLING, Disposition.RECALLED, T0)], sender=authority)

    assert logs(pp, "PassportEventRecorded", order) == [
        recorded(i, authority.address, BizStep.RECALLING, Disposition.RECALLED, bytes(32)) for i in (mine, theirs)
    ]
    assert states(pp, mine, theirs) == [(State.RECALLED, State.RECALLED)] * 2
    verdict = pp.verify(ProductKey.item(GTIN, "BAG1"))
    assert (verdict.recalled, verdict.recall_source, verdict.journey[-1].actor) == (True, mine, authority.address)
    # It orders recalls; it does not handle goods.
    other = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG3"))
    assert_refused(
        chain,
        lambda: pp.record([event(other, BizStep.DESTROYING, Disposition.DESTROYED)], sender=authority),
        "PassportMissingRole",
        account=authority.address,
        role="producer or retailer",
    )
    assert_refused(
        chain,
        lambda: pp.record([event(other, BizStep.ARRIVING, Disposition.STOLEN)], sender=authority),
        "PassportNotHolder",
        holder=orgs.producer,
        account=authority.address,
    )
    assert states(pp, other) == [(State.ACTIVE, State.ACTIVE)]


# ------------------------------------------ findings of the issue-11 review, fixed in the contract


def test_an_item_sold_in_its_case_stays_sold_once_after_the_case_is_returned(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    item, case = pp.commission(
        [ProductKey.item(GTIN, "BAG1"), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    pp.pack(case, [item], sender=orgs.producer)
    sell(pp, orgs, case)
    pp.record([event(case, BizStep.ACCEPTING, Disposition.DAMAGED)], sender=orgs.retailer)
    pp.record([event(case, BizStep.INSPECTING, Disposition.CONFORMANT)], sender=orgs.inspector)
    assert pp.verify(ProductKey.container(CASE_GTIN, "CASE1", 1)).returned  # the case is sold once and back

    verdict = pp.verify(ProductKey.item(GTIN, "BAG1"))

    assert (verdict.state, verdict.sold_once, verdict.returned) == (State.ACTIVE, True, True)


def test_a_producers_recall_of_its_pallet_reaches_its_goods_in_another_producers_case(
    chain: Chain, pp: ProductPassports, orgs: Orgs, world: World
) -> None:
    rival = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    (case,) = pp.commission([ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=rival)
    hand_over(pp, case, rival, orgs.producer)
    item, pallet = pp.commission(
        [ProductKey.item(GTIN, "BAG1"), ProductKey.container(CASE_GTIN, "PAL1", 2)], sender=orgs.producer
    )
    pp.pack(case, [item], sender=orgs.producer)
    pp.pack(pallet, [case], sender=orgs.producer)
    recall(pp, orgs, pallet)
    assert states(pp, case, item) == [(State.ACTIVE, State.RECALLED)] * 2

    pp.unpack([item], sender=orgs.producer)

    assert states(pp, item) == [(State.RECALLED, State.RECALLED)]


def test_an_in_transit_observation_on_a_packed_item_does_not_outlast_its_case(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    item, case = pp.commission(
        [ProductKey.item(GTIN, "BAG1"), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    pp.pack(case, [item], sender=orgs.producer)
    assert_refused(chain, lambda: ship(pp, orgs, item), "PassportInContainer")
    pp.record([event(item, BizStep.DEPARTING, Disposition.IN_TRANSIT)], sender=orgs.producer)
    ship(pp, orgs, case)
    receive(pp, orgs, case)

    assert states(pp, case, item) == [(State.ACTIVE, State.ACTIVE)] * 2
