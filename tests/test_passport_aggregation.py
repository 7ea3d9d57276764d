"""Containers: items packed into cases and cases into pallets, only into higher tiers; an
event on a container reaches everything inside at a cost that does not grow with it, and
what is unpacked keeps the state it took; consignments move as one; traces include a
container's events only while packed.

Chain tests run on the embedded EVM, Anvil and Ganache (see conftest.py), from the
organisations of ``passport_world`` (producer, inspector, carrier, customs, retailer,
registrar, a food-safety authority), verified and given their roles once per backend
(``orgs_setup``); each test is isolated by the per-test snapshot of the ``world`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_utils import keccak
from passport_world import (
    CASE_GTIN,
    CERTIFICATE,
    GTIN,
    PORT,
    T0,
    Orgs,
    commission_one,
    event,
    hand_over,
    item_keys,
    load,
    recall,
    receive,
    recorded,
    retail_sale,
    sell,
    ship,
    shown,
    states,
)
from support import assert_refused, logs
from web3.types import TxParams, Wei

from chainpass.artifacts import event_topic, load_artifact
from chainpass.chain import Chain
from chainpass.enums import BizStep, Disposition, State
from chainpass.errors import InvalidInput
from chainpass.passport import EpcisEvent, ProductPassports, TraceEntry
from chainpass.standards.gs1 import ProductKey

# ------------------------------------------------------------------------- aggregation


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
