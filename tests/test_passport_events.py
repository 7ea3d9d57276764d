"""A passport's lifecycle through EPCIS events: shipping, receiving, selling, inspecting,
recalling, decommissioning and customs steps, each with the dispositions it accepts, in
order within a transaction, and never on goods whose state refuses them.

Chain tests run on the embedded EVM, Anvil and Ganache (see conftest.py), from the
organisations of ``passport_world`` (producer, inspector, carrier, customs, retailer,
registrar, a food-safety authority), verified and given their roles once per backend
(``orgs_setup``); each test is isolated by the per-test snapshot of the ``world`` fixture.

Physical steps and observations are recorded by whoever holds the goods, with the step's
role, so where another party acts the tests hand the goods over first (``hand_over``);
inspecting and customs steps are the regulators' on any passport; a passport's producer, or
a food-safety authority, recalls it (issue 11).
"""

from __future__ import annotations

import pytest
from accounts import World
from passport_world import (
    CASE_GTIN,
    CERTIFICATE,
    GTIN,
    PORT,
    T0,
    WAREHOUSE,
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
from chainpass.enums import BizStep, Disposition, State
from chainpass.passport import EpcisEvent, ProductPassports
from chainpass.standards.gs1 import ProductKey


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
