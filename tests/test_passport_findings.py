"""Findings about ProductPassport, fixed in the contract and pinned here: issue 11's smaller
findings (an observation on a packed item, a sale erased by a quarantine, event times in
the future, transfers of spent passports, an unrelated retailer's attacks, a food-safety
authority's recall); those of the issue-11 review; and those of the CLI and demo work on
ProductPassport 0.4.0 (a custody repair names its reason, and a prefix that contains a
registered one is refused with an error that says so, not naming the zero address).

Chain tests run on the embedded EVM, Anvil and Ganache (see conftest.py), from the
organisations of ``passport_world`` (producer, inspector, carrier, customs, retailer,
registrar, a food-safety authority), verified and given their roles once per backend
(``orgs_setup``); each test is isolated by the per-test snapshot of the ``world`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable

from accounts import World
from eth_utils import keccak
from passport_world import (
    CASE_GTIN,
    GTIN,
    T0,
    ZERO_ADDRESS,
    Orgs,
    commission_one,
    enlist_producer,
    event,
    hand_over,
    item_keys,
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

from chainpass.chain import Chain
from chainpass.enums import BizStep, Disposition, Kind, State
from chainpass.passport import EpcisEvent, ProductPassports
from chainpass.standards.gs1 import ProductKey

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


# ------------------------------------------ findings of the CLI and demo work on 0.4.0


def test_a_custody_repair_must_name_its_reason(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    id_ = commission_one(pp, orgs, ProductKey.item(GTIN, "REPAIR-1"))
    hand_over(pp, id_, orgs.producer, orgs.carrier)
    repair = pp.contract.functions.repairCustody(id_, orgs.retailer, bytes(32))

    assert_refused(chain, lambda: chain.transact(repair, orgs.governor), "PassportNoReason")
    assert pp.custodian_of(id_) == orgs.carrier


def test_a_prefix_containing_a_registered_one_is_refused_saying_so(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    # PRODUCER_PREFIXES registered 9506000 to the producer; 9506 contains it.
    refused = assert_refused(
        chain,
        lambda: pp.register_prefix("9506", orgs.retailer, sender=orgs.registrar),
        "PassportPrefixContainsRegistered",
        prefix="9506",
        length=4,
        count=1,
    )

    assert ZERO_ADDRESS not in str(refused)


def test_a_prefix_inside_a_registered_one_is_refused_naming_its_licensee(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    assert_refused(
        chain,
        lambda: pp.register_prefix("95060001", orgs.retailer, sender=orgs.registrar),
        "PassportPrefixTaken",
        licensee=orgs.producer,
    )
