"""Passport ids and ERC-721: a passport's id is its GS1 key's, commissioned once; malformed
keys are refused on chain; passports are ERC-721 tokens whose owner transfers them.

Chain tests run on the embedded EVM, Anvil and Ganache (see conftest.py), from the
organisations of ``passport_world`` (producer, inspector, carrier, customs, retailer,
registrar, a food-safety authority), verified and given their roles once per backend
(``orgs_setup``); each test is isolated by the per-test snapshot of the ``world`` fixture.
"""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from passport_world import (
    CASE_GTIN,
    ERC165,
    ERC721,
    GTIN,
    METADATA_HASH,
    METADATA_URI,
    ZERO_ADDRESS,
    Orgs,
    commission_one,
    item_keys,
    last_receipt,
    shown,
)
from support import assert_refused, logs

from chainpass.chain import Chain
from chainpass.enums import Kind, State
from chainpass.errors import InvalidInput
from chainpass.passport import Lineage, ProductPassports
from chainpass.standards.gs1 import ProductKey


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
