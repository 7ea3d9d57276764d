"""Transformations: inputs consumed, outputs commissioned with their lineage, and recalls
that reach every descendant (however many transformations lie between: beyond the
MAX_LINEAGE a transformation lists, through its recall group).

The story: paddy lots are milled into milled-rice lots, which are bagged. Every test runs
on the embedded EVM and on Anvil, with the organisations of ``passport_world`` and a
snapshot per test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from accounts import World
from passport_world import (
    CASE_GTIN,
    CERTIFICATE,
    GTIN,
    METADATA_HASH,
    METADATA_URI,
    T0,
    ZERO_ADDRESS,
    Orgs,
    commission_one,
    enlist_producer,
    event,
    hand_over,
    last_receipt,
    recall,
    receive,
    recorded,
    sell,
    ship,
    shown,
    states,
)
from support import assert_refused, logs
from web3.types import TxReceipt

from chainpass.chain import Chain
from chainpass.enums import BizStep, Disposition, Role, State
from chainpass.errors import InvalidInput
from chainpass.identity import IdentityRegistry
from chainpass.passport import EpcisEvent, Lineage, ProductPassports, TraceEntry, transformation_id
from chainpass.standards.gs1 import ProductKey

PADDY_GTIN = "9506000134406"
RICE_GTIN = "9506000134413"
MILL_A = transformation_id("urn:uuid:mill-run-2026-11-27-A")
MILL_B = transformation_id("urn:uuid:mill-run-2026-11-27-B")
BAG_A = transformation_id("urn:uuid:bagging-2026-11-28-A")
BAG_B = transformation_id("urn:uuid:bagging-2026-11-28-B")


def paddy(name: str) -> ProductKey:
    return ProductKey.lot(PADDY_GTIN, name)


def rice(name: str) -> ProductKey:
    return ProductKey.lot(RICE_GTIN, name)


def bag(serial: str) -> ProductKey:
    return ProductKey.item(GTIN, serial)


def transform(
    pp: ProductPassports, orgs: Orgs, tid: bytes, inputs: list[int], outputs: list[ProductKey], *, by: str | None = None
) -> list[int]:
    return pp.transform(
        tid, inputs, outputs, metadata_hash=METADATA_HASH, metadata_uri=METADATA_URI, sender=by or orgs.producer
    )


def key_row(key: ProductKey) -> tuple[int, int, int, bytes]:
    """A key as the contract takes it, to send what the Python client would refuse."""
    return (key.gtin, int(key.kind), key.tier, key.serial_bytes)


@dataclass(frozen=True)
class Mill:
    """Two milling runs and their bagging: paddy 1 and 2 -> milled A -> bags A1, A2;
    paddy 3 -> milled B -> bag B1."""

    paddy1: int
    paddy2: int
    paddy3: int
    milled_a: int
    milled_b: int
    bag_a1: int
    bag_a2: int
    bag_b1: int
    receipts: dict[bytes, TxReceipt]


def mill(pp: ProductPassports, orgs: Orgs, chain: Chain) -> Mill:
    paddy1, paddy2, paddy3 = pp.commission([paddy("P-001"), paddy("P-002"), paddy("P-003")], sender=orgs.producer)
    receipts: dict[bytes, TxReceipt] = {}
    # The inputs in another order than commissioned: inputs_of keeps the order they were consumed in.
    (milled_a,) = transform(pp, orgs, MILL_A, [paddy2, paddy1], [rice("M-A")])
    receipts[MILL_A] = last_receipt(chain)
    (milled_b,) = transform(pp, orgs, MILL_B, [paddy3], [rice("M-B")])
    receipts[MILL_B] = last_receipt(chain)
    bag_a1, bag_a2 = transform(pp, orgs, BAG_A, [milled_a], [bag("A1"), bag("A2")])
    receipts[BAG_A] = last_receipt(chain)
    (bag_b1,) = transform(pp, orgs, BAG_B, [milled_b], [bag("B1")])
    receipts[BAG_B] = last_receipt(chain)
    return Mill(paddy1, paddy2, paddy3, milled_a, milled_b, bag_a1, bag_a2, bag_b1, receipts)


# ------------------------------------------------------------------------- transforming


class TestMill:
    """Two milling runs and their bagging, recorded once per backend."""

    @pytest.fixture(scope="class")
    def m(self, orgs_setup: Orgs, world_session: World) -> Iterator[Mill]:
        chain = world_session.chain
        snapshot = chain.snapshot()
        yield mill(ProductPassports.from_deployment(chain, world_session.deployment), orgs_setup, chain)
        chain.revert(snapshot)

    def test_milling_and_bagging_consume_inputs_and_keep_the_lineage(
        self, chain: Chain, pp: ProductPassports, orgs: Orgs, m: Mill
    ) -> None:
        p = orgs.producer

        milling = m.receipts[MILL_A]
        assert logs(pp, "PassportConsumed", milling) == [
            {"id": m.paddy2, "transformationId": MILL_A, "producer": p},
            {"id": m.paddy1, "transformationId": MILL_A, "producer": p},
        ]
        assert logs(pp, "PassportProduced", milling) == [{"id": m.milled_a, "transformationId": MILL_A, "producer": p}]
        assert logs(pp, "TransformationRecorded", milling) == [
            {
                "transformationId": MILL_A,
                "producer": p,
                "inputs": 2,
                "outputs": 1,
                "metadataHash": METADATA_HASH,
                "metadataURI": METADATA_URI,
            }
        ]
        key = rice("M-A")
        assert logs(pp, "PassportCommissioned", milling) == [
            {"id": m.milled_a, "gtin": key.gtin, "serial": key.serial_bytes}
        ]
        assert logs(pp, "Transfer", milling) == [{"from": ZERO_ADDRESS, "to": p, "tokenId": m.milled_a}]
        assert logs(pp, "BatchCommissioned", milling) == []
        bagging = m.receipts[BAG_A]
        assert logs(pp, "PassportConsumed", bagging) == [{"id": m.milled_a, "transformationId": BAG_A, "producer": p}]
        assert logs(pp, "PassportProduced", bagging) == [
            {"id": m.bag_a1, "transformationId": BAG_A, "producer": p},
            {"id": m.bag_a2, "transformationId": BAG_A, "producer": p},
        ]
        assert [(t["inputs"], t["outputs"]) for t in logs(pp, "TransformationRecorded", bagging)] == [(1, 2)]

        # Lineage: the origin, and the transformations before it.
        assert pp.lineage_of(m.paddy1) == Lineage(None, False, ())
        assert pp.lineage_of(m.milled_a) == Lineage(MILL_A, False, ())
        assert pp.lineage_of(m.bag_a1) == Lineage(BAG_A, False, (MILL_A,))
        assert pp.lineage_of(m.bag_b1) == Lineage(BAG_B, False, (MILL_B,))
        assert pp.contract.functions.lineageOf(m.bag_a2).call() == [BAG_A, False, [MILL_A], False]
        for output, origin in [(m.milled_a, MILL_A), (m.bag_a1, BAG_A), (m.bag_b1, BAG_B)]:
            record = pp.passport(output)
            assert record is not None
            assert (record.origin, record.producer, record.owner) == (origin, p, p)
            assert pp.producer_of(output) == p
        # Inputs are consumed; outputs are active, and go on like any passport.
        consumed = [m.paddy1, m.paddy2, m.paddy3, m.milled_a, m.milled_b]
        assert states(pp, *consumed) == [(State.CONSUMED, State.CONSUMED)] * 5
        assert states(pp, m.bag_a1, m.bag_a2, m.bag_b1) == [(State.ACTIVE, State.ACTIVE)] * 3
        assert pp.inputs_of(MILL_A) == [m.paddy2, m.paddy1]
        assert pp.inputs_of(BAG_A) == [m.milled_a]
        assert pp.inputs_of(transformation_id("never-ran")) == []
        ship(pp, orgs, m.bag_b1)
        receive(pp, orgs, m.bag_b1)
        sell(pp, orgs, m.bag_b1)
        assert states(pp, m.bag_b1) == [(State.SOLD, State.SOLD)]

    def test_a_recall_of_one_paddy_lot_reaches_exactly_its_descendants(
        self, chain: Chain, pp: ProductPassports, orgs: Orgs, m: Mill
    ) -> None:
        sell(pp, orgs, m.bag_a2)  # sold before the recall

        receipt = recall(pp, orgs, m.paddy1)

        assert logs(pp, "PassportEventRecorded", receipt) == [
            recorded(m.paddy1, orgs.producer, BizStep.RECALLING, Disposition.RECALLED)
        ]
        assert logs(pp, "TransformationRecalled", receipt) == [{"transformationId": MILL_A, "cause": m.paddy1}]
        # Two levels down from paddy 1, and nothing of the other run; the other input of the
        # same run is not itself recalled (what was made from it is).
        assert states(pp, m.paddy1, m.paddy2, m.milled_a, m.bag_a1, m.bag_a2) == [
            (State.RECALLED, State.RECALLED),
            (State.CONSUMED, State.CONSUMED),
            (State.CONSUMED, State.RECALLED),
            (State.ACTIVE, State.RECALLED),
            (State.SOLD, State.RECALLED),
        ]
        assert states(pp, m.paddy3, m.milled_b, m.bag_b1) == [
            (State.CONSUMED, State.CONSUMED),
            (State.CONSUMED, State.CONSUMED),
            (State.ACTIVE, State.ACTIVE),
        ]
        assert pp.lineage_of(m.bag_a1) == Lineage(BAG_A, True, (MILL_A,))
        assert pp.lineage_of(m.milled_a).recalled is True
        assert pp.lineage_of(m.bag_b1) == Lineage(BAG_B, False, (MILL_B,))
        # A scan of a bag says so, and where the recall came from.
        verdict = pp.verify(bag("A1"))
        assert (verdict.genuine, verdict.state, verdict.recalled) == (True, State.RECALLED, True)
        assert verdict.recall_source == m.paddy1
        assert verdict.to_json()["recall_source"] == hex(m.paddy1)
        assert pp.verify(bag("A2")).recall_source == m.paddy1
        unaffected = pp.verify(bag("B1"))
        assert (unaffected.state, unaffected.recall_source) == (State.ACTIVE, None)

        # Recalled descendants cannot be sold (by the retailer that holds one), shipped,
        # packed, consumed, or recalled again.
        case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "CASE1", 1))
        a1 = shown(m.bag_a1)
        hand_over(pp, m.bag_a1, orgs.producer, orgs.retailer)
        on_sale = event(m.bag_a1, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)
        assert_refused(
            chain,
            lambda: pp.record([on_sale], sender=orgs.retailer),
            "PassportInvalidTransition",
            id=a1,
            state="recalled",
        )
        for holder in (orgs.retailer, orgs.producer):
            assert_refused(
                chain,
                lambda holder=holder: ship(pp, orgs, m.bag_a1, by=holder),  # type: ignore[misc]
                "PassportInvalidTransition",
                id=a1,
                state="recalled",
            )
        hand_over(pp, m.bag_a1, orgs.retailer, orgs.producer)  # back with the producer, to pack or consume
        assert_refused(
            chain,
            lambda: pp.pack(case, [m.bag_a1], sender=orgs.producer),
            "PassportInvalidTransition",
            id=a1,
            state="recalled",
            bizStep="packing",
        )
        for descendant in (m.bag_a1, m.bag_a2):
            assert_refused(
                chain,
                lambda descendant=descendant: transform(  # type: ignore[misc]
                    pp, orgs, transformation_id("rebag"), [descendant], [bag("X1")]
                ),
                "PassportNotConsumable",
                id=shown(descendant),
                state="recalled",
            )
        assert_refused(
            chain,
            lambda: recall(pp, orgs, m.bag_a1),
            "PassportInvalidTransition",
            state="recalled",
            bizStep="recalling",
        )
        assert_refused(chain, lambda: recall(pp, orgs, m.paddy1), "PassportInvalidTransition", state="recalled")
        # The other run's bag is untouched.
        sell(pp, orgs, m.bag_b1)
        assert states(pp, m.bag_b1) == [(State.SOLD, State.SOLD)]

    def test_a_recall_reaches_a_descendant_packed_in_a_container(
        self, chain: Chain, pp: ProductPassports, orgs: Orgs, m: Mill
    ) -> None:
        case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "CASE1", 1))
        pp.pack(case, [m.bag_a1, m.bag_b1], sender=orgs.producer)
        hand_over(pp, case, orgs.producer, orgs.carrier)
        ship(pp, orgs, case, by=orgs.carrier)

        recall(pp, orgs, m.paddy1)

        # The recall beats the container's state; the case and the other run's bag travel on.
        assert states(pp, m.bag_a1, m.bag_b1, case) == [
            (State.ACTIVE, State.RECALLED),
            (State.ACTIVE, State.IN_TRANSIT),
            (State.IN_TRANSIT, State.IN_TRANSIT),
        ]
        assert pp.passport(m.bag_a1).container == case  # type: ignore[union-attr]
        hand_over(pp, case, orgs.carrier, orgs.retailer)
        receive(pp, orgs, case, by=orgs.retailer)
        pp.unpack([m.bag_a1, m.bag_b1], sender=orgs.retailer)
        assert pp.custodian_of(m.bag_a1) == pp.custodian_of(m.bag_b1) == orgs.retailer
        # Out of the case, it is still recalled (through its lineage); its case-mate is not.
        assert states(pp, m.bag_a1, m.bag_b1) == [(State.ACTIVE, State.RECALLED), (State.ACTIVE, State.ACTIVE)]
        verdict = pp.verify(bag("A1"))
        assert (verdict.state, verdict.recall_source) == (State.RECALLED, m.paddy1)
        via_case = [e for e in verdict.journey if e.via_container == case]
        assert [(e.event, e.details.get("biz_step"), e.actor) for e in via_case] == [
            ("CustodyTransferred", None, orgs.carrier),
            ("PassportEventRecorded", "shipping", orgs.carrier),
            ("CustodyTransferred", None, orgs.retailer),
            ("PassportEventRecorded", "receiving", orgs.retailer),
        ]
        assert_refused(chain, lambda: sell(pp, orgs, m.bag_a1), "PassportInvalidTransition", state="recalled")
        sell(pp, orgs, m.bag_b1)


#: Every step but recalling, with a disposition it accepts and who may record it.
STEPS_BUT_RECALLING = [
    (BizStep.INSPECTING, Disposition.CONFORMANT, "inspector"),
    (BizStep.INSPECTING, Disposition.NON_CONFORMANT, "inspector"),
    (BizStep.SHIPPING, Disposition.IN_TRANSIT, "carrier"),
    (BizStep.RECEIVING, Disposition.SELLABLE, "retailer"),
    (BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, "customs"),
    (BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT, "customs"),
    (BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD, "retailer"),
    (BizStep.DECOMMISSIONING, Disposition.INACTIVE, "producer"),
    (BizStep.DECOMMISSIONING, Disposition.INACTIVE, "retailer"),
]


def test_a_consumed_passport_takes_nothing_but_a_recall(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    lot, case = pp.commission([paddy("P-001"), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer)
    (milled,) = transform(pp, orgs, MILL_A, [lot], [rice("M-A")])
    shown_lot = shown(lot)

    for step, disposition, actor in STEPS_BUT_RECALLING:
        assert_refused(
            chain,
            lambda step=step, disposition=disposition, actor=actor: pp.record(  # type: ignore[misc]
                [event(lot, step, disposition)], sender=orgs.by_name(actor)
            ),
            "PassportInvalidTransition",
            id=shown_lot,
            state="consumed",
            bizStep=step.label,
        )
    assert_refused(
        chain,
        lambda: pp.pack(case, [lot], sender=orgs.producer),
        "PassportInvalidTransition",
        id=shown_lot,
        state="consumed",
        bizStep="packing",
    )
    assert_refused(chain, lambda: pp.unpack([lot], sender=orgs.producer), "PassportNotPacked", id=shown_lot)
    for again in (MILL_A, MILL_B):  # neither by the transformation that consumed it, nor by another
        assert_refused(
            chain,
            lambda again=again: transform(pp, orgs, again, [lot], [rice("M-X")]),  # type: ignore[misc]
            "PassportNotConsumable",
            id=shown_lot,
            state="consumed",
        )
    assert_refused(chain, lambda: recall(pp, orgs, lot, by=orgs.retailer), "PassportMissingRole", role="producer")
    assert states(pp, lot, milled) == [(State.CONSUMED, State.CONSUMED), (State.ACTIVE, State.ACTIVE)]
    assert pp.inputs_of(MILL_A) == [lot]

    # Its producer's recall reaches it, and through it what was made from it.
    receipt = recall(pp, orgs, lot)

    assert logs(pp, "TransformationRecalled", receipt) == [{"transformationId": MILL_A, "cause": lot}]
    assert states(pp, lot, milled) == [(State.RECALLED, State.RECALLED), (State.ACTIVE, State.RECALLED)]


# ------------------------------------------------------------- growing a transformation


def test_inputs_added_to_a_transformation_later_reach_its_earlier_outputs(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    first, late, root = pp.commission([paddy("P-001"), paddy("P-002"), paddy("P-000")], sender=orgs.producer)
    (blended,) = transform(pp, orgs, MILL_B, [root], [rice("M-B")])  # an input with a lineage of its own
    (early,) = transform(pp, orgs, MILL_A, [first], [rice("M-A1")])

    more_inputs = transform(pp, orgs, MILL_A, [late, blended], [])
    added_inputs = last_receipt(chain)
    (later,) = transform(pp, orgs, MILL_A, [], [rice("M-A2")])
    added_output = last_receipt(chain)

    assert more_inputs == []
    assert [(t["inputs"], t["outputs"]) for t in logs(pp, "TransformationRecorded", added_inputs)] == [(2, 0)]
    assert [c["id"] for c in logs(pp, "PassportConsumed", added_inputs)] == [late, blended]
    assert logs(pp, "PassportProduced", added_inputs) == []
    assert [(t["inputs"], t["outputs"]) for t in logs(pp, "TransformationRecorded", added_output)] == [(0, 1)]
    assert logs(pp, "PassportProduced", added_output) == [
        {"id": later, "transformationId": MILL_A, "producer": orgs.producer}
    ]
    assert pp.inputs_of(MILL_A) == [first, late, blended]
    # The earlier output gained the lineage of the later inputs.
    assert pp.lineage_of(early) == pp.lineage_of(later) == Lineage(MILL_A, False, (MILL_B,))

    receipt = recall(pp, orgs, late)

    assert logs(pp, "TransformationRecalled", receipt) == [{"transformationId": MILL_A, "cause": late}]
    assert states(pp, early, later, first, blended) == [
        (State.ACTIVE, State.RECALLED),
        (State.ACTIVE, State.RECALLED),
        (State.CONSUMED, State.CONSUMED),
        (State.CONSUMED, State.CONSUMED),
    ]
    assert pp.verify(rice("M-A1")).recall_source == late


def test_a_transformation_whose_outputs_were_consumed_takes_no_more_inputs(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    """What was made from a transformation's outputs copied its lineage when it was made;
    a later input would not reach it, so the extension is refused. Outputs may still be
    added, and they carry the whole lineage."""
    first, root = pp.commission([paddy("P-001"), paddy("P-000")], sender=orgs.producer)
    milled, spare = transform(pp, orgs, MILL_A, [first], [rice("M-A"), rice("M-A2")])
    (bagged,) = transform(pp, orgs, BAG_A, [milled], [bag("A1")])
    (other,) = transform(pp, orgs, MILL_B, [root], [rice("M-B")])

    assert_refused(chain, lambda: transform(pp, orgs, MILL_A, [other], []), "PassportTransformationSealed")
    (late,) = transform(pp, orgs, MILL_A, [], [rice("M-A3")])
    recall(pp, orgs, first)

    assert states(pp, other) == [(State.ACTIVE, State.ACTIVE)]
    assert states(pp, milled, spare, late, bagged) == [
        (State.CONSUMED, State.RECALLED),
        (State.ACTIVE, State.RECALLED),
        (State.ACTIVE, State.RECALLED),
        (State.ACTIVE, State.RECALLED),
    ]


def test_only_its_producer_adds_to_a_transformation(
    chain: Chain, pp: ProductPassports, orgs: Orgs, world: World
) -> None:
    rival = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    (lot,) = pp.commission([paddy("P-001")], sender=orgs.producer)
    (theirs,) = pp.commission([paddy("P-101")], sender=rival)
    transform(pp, orgs, MILL_A, [lot], [rice("M-A")])

    # The rival can run a transformation of its own, under another id.
    (own,) = transform(pp, orgs, MILL_B, [theirs], [rice("M-R")], by=rival)
    assert (pp.producer_of(own), pp.passport(own).owner) == (rival, rival)  # type: ignore[union-attr]
    assert pp.lineage_of(own) == Lineage(MILL_B, False, ())
    (spare,) = pp.commission([paddy("P-102")], sender=rival)
    for inputs, outputs in [([spare], []), ([], [rice("M-X")]), ([spare], [rice("M-X")])]:
        assert_refused(
            chain,
            lambda inputs=inputs, outputs=outputs: transform(pp, orgs, MILL_A, inputs, outputs, by=rival),  # type: ignore[misc]
            "PassportNotItsTransformer",
            producer=orgs.producer,
        )
    assert states(pp, spare) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.inputs_of(MILL_A) == [lot]


def test_a_new_transformation_needs_inputs_and_an_id(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    (lot,) = pp.commission([paddy("P-001")], sender=orgs.producer)
    block = chain.w3.eth.block_number

    with pytest.raises(InvalidInput, match="needs inputs to consume or outputs"):
        transform(pp, orgs, MILL_A, [], [])
    with pytest.raises(InvalidInput, match="needs an id"):
        transformation_id("  ")
    with pytest.raises(InvalidInput, match="transformation id must be 32 bytes"):
        transform(pp, orgs, b"mill-run-A", [lot], [rice("M-A")])
    assert chain.w3.eth.block_number == block
    c = pp.contract.functions
    assert_refused(
        chain, lambda: chain.transact(c.transform(MILL_A, [], [], bytes(32), ""), orgs.producer), "PassportEmptyBatch"
    )
    assert_refused(chain, lambda: transform(pp, orgs, bytes(32), [lot], [rice("M-A")]), "PassportNoInputs")
    assert states(pp, lot) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.passport(ProductPassports.passport_id(rice("M-A"))) is None
    # Outputs alone start nothing: a transformation begins by consuming.
    assert_refused(chain, lambda: transform(pp, orgs, MILL_A, [], [rice("M-A")]), "PassportNoInputs")
    assert pp.passport(ProductPassports.passport_id(rice("M-A"))) is None


# ------------------------------------------------------------------------- what goes in


def test_inputs_must_be_the_callers_or_approved(chain: Chain, pp: ProductPassports, orgs: Orgs, world: World) -> None:
    rival = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    lot, other_lot = pp.commission([paddy("P-001"), paddy("P-002")], sender=orgs.producer)
    (mine,) = pp.commission([paddy("P-101")], sender=rival)
    c = pp.contract.functions

    assert_refused(
        chain,
        lambda: transform(pp, orgs, MILL_B, [mine, lot], [rice("M-R")], by=rival),
        "PassportNotOwnerNorApproved",
        account=rival,
        id=shown(lot),
    )
    assert states(pp, mine, lot) == [(State.ACTIVE, State.ACTIVE)] * 2

    # Approved for the lot (ERC-721 approve), the rival still needs the goods in its hands.
    chain.transact(c.approve(rival, lot), orgs.producer)
    assert_refused(
        chain,
        lambda: transform(pp, orgs, MILL_B, [mine, lot], [rice("M-R")], by=rival),
        "PassportNotHolder",
        id=shown(lot),
        holder=orgs.producer,
        account=rival,
    )
    # Handed over too, the rival can consume it; what it makes is its own.
    hand_over(pp, lot, orgs.producer, rival)
    (made,) = transform(pp, orgs, MILL_B, [mine, lot], [rice("M-R")], by=rival)

    assert [(e["id"], e["producer"]) for e in logs(pp, "PassportConsumed", last_receipt(chain))] == [
        (mine, rival),
        (lot, rival),
    ]
    assert (pp.producer_of(made), pp.producer_of(lot)) == (rival, orgs.producer)
    assert states(pp, lot, made) == [(State.CONSUMED, State.CONSUMED), (State.ACTIVE, State.ACTIVE)]
    # An operator for all of an owner's passports may too.
    chain.transact(c.setApprovalForAll(rival, True), orgs.producer)
    hand_over(pp, other_lot, orgs.producer, rival)
    transform(pp, orgs, transformation_id("mill-run-R2"), [other_lot], [rice("M-R2")], by=rival)
    assert states(pp, other_lot) == [(State.CONSUMED, State.CONSUMED)]
    # The lot is still its producer's to recall, and that reaches the rival's output.
    assert_refused(chain, lambda: recall(pp, orgs, lot, by=rival), "PassportNotItsProducer", producer=orgs.producer)
    recall(pp, orgs, lot)
    assert states(pp, made) == [(State.ACTIVE, State.RECALLED)]


def test_only_active_unpacked_goods_are_consumed(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    good, held, moving, packed, sold, retired, recalled, case = pp.commission(
        [*(paddy(f"P-00{i}") for i in range(7)), ProductKey.container(CASE_GTIN, "CASE1", 1)], sender=orgs.producer
    )
    pp.record(
        [event(held, BizStep.INSPECTING, Disposition.NON_CONFORMANT, document=CERTIFICATE)], sender=orgs.inspector
    )
    ship(pp, orgs, moving)
    pp.pack(case, [packed], sender=orgs.producer)
    sell(pp, orgs, sold)
    pp.record([event(retired, BizStep.DECOMMISSIONING, Disposition.INACTIVE)], sender=orgs.producer)
    recall(pp, orgs, recalled)
    unknown = ProductPassports.passport_id(paddy("P-999"))
    before = states(pp, good, held, moving, packed, sold, retired, recalled, case)

    for bad, state in [
        (held, "quarantined"),
        (moving, "in_transit"),
        (packed, "active"),
        (case, "active"),
        (sold, "sold"),
        (retired, "decommissioned"),
        (recalled, "recalled"),
    ]:
        assert_refused(
            chain,
            lambda bad=bad: transform(pp, orgs, MILL_A, [good, bad], [rice("M-A")]),  # type: ignore[misc]
            "PassportNotConsumable",
            id=shown(bad),
            state=state,
        )
    assert_refused(chain, lambda: transform(pp, orgs, MILL_A, [good, unknown], [rice("M-A")]), "PassportUnknown")
    # Nothing was half-done: the good input is still active, no output exists, no transformation began.
    assert states(pp, good, held, moving, packed, sold, retired, recalled, case) == before
    assert pp.passport(ProductPassports.passport_id(rice("M-A"))) is None
    assert pp.inputs_of(MILL_A) == []
    # Unpacked from its (active) case, the packed lot is fine.
    pp.unpack([packed], sender=orgs.producer)
    transform(pp, orgs, MILL_A, [good, packed], [rice("M-A")])
    assert states(pp, good, packed) == [(State.CONSUMED, State.CONSUMED)] * 2


# ------------------------------------------------------------------------ what comes out


def test_outputs_are_new_goods(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    lot, existing = pp.commission([paddy("P-001"), ProductKey.item(GTIN, "OLD1")], sender=orgs.producer)
    pallet = ProductKey.container(CASE_GTIN, "PAL1", 2)
    c = pp.contract.functions
    block = chain.w3.eth.block_number

    with pytest.raises(InvalidInput, match="not containers"):
        transform(pp, orgs, MILL_A, [lot], [rice("M-A"), pallet])
    with pytest.raises(InvalidInput, match="same input or output twice"):
        transform(pp, orgs, MILL_A, [lot], [rice("M-A"), rice("M-A")])
    with pytest.raises(InvalidInput, match="same input or output twice"):
        transform(pp, orgs, MILL_A, [lot, lot], [rice("M-A")])
    assert chain.w3.eth.block_number == block

    def raw(inputs: list[int], outputs: list[ProductKey]) -> object:
        return chain.transact(c.transform(MILL_A, inputs, [key_row(k) for k in outputs], bytes(32), ""), orgs.producer)

    assert_refused(
        chain,
        lambda: raw([lot], [rice("M-A"), pallet]),
        "PassportInvalidKey",
        gtin=pallet.gtin14,
        serial="'PAL1'",
    )
    assert_refused(
        chain, lambda: raw([lot], [rice("M-A"), rice("M-A")]), "PassportExists", id=shown(pp.passport_id(rice("M-A")))
    )
    assert_refused(
        chain, lambda: raw([lot, lot], [rice("M-A")]), "PassportNotConsumable", id=shown(lot), state="consumed"
    )
    assert_refused(
        chain, lambda: transform(pp, orgs, MILL_A, [lot], [ProductKey.item(GTIN, "OLD1")]), "PassportExists",
        id=shown(existing),
    )  # fmt: skip
    assert states(pp, lot, existing) == [(State.ACTIVE, State.ACTIVE)] * 2
    assert pp.passport(pp.passport_id(rice("M-A"))) is None
    assert pp.lineage_of(existing) == Lineage(None, False, ())


# ----------------------------------------------------------------------------- identity


def test_a_suspended_producer_cannot_transform(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, world: World
) -> None:
    (lot,) = pp.commission([paddy("P-001")], sender=orgs.producer)

    registry.suspend(orgs.producer, "under_review", sender=world.roles.bureau)

    assert_refused(
        chain,
        lambda: transform(pp, orgs, MILL_A, [lot], [rice("M-A")]),
        "PassportActorNotVerified",
        account=orgs.producer,
        standing="suspended",
    )
    assert states(pp, lot) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.passport(pp.passport_id(rice("M-A"))) is None
    assert pp.inputs_of(MILL_A) == []
    # Without the producer role, a verified organisation cannot either.
    registry.reinstate(orgs.producer, sender=world.roles.bureau)
    pp.set_roles(orgs.producer, Role.CARRIER, sender=orgs.governor)
    assert_refused(
        chain,
        lambda: transform(pp, orgs, MILL_A, [lot], [rice("M-A")]),
        "PassportMissingRole",
        account=orgs.producer,
        role="producer",
    )
    pp.set_roles(orgs.producer, Role.PRODUCER, sender=orgs.governor)
    transform(pp, orgs, MILL_A, [lot], [rice("M-A")])
    assert states(pp, lot) == [(State.CONSUMED, State.CONSUMED)]


# ------------------------------------------------------------- lineage beyond the list

#: MAX_LINEAGE: the ancestors a transformation lists; further ones go into its recall group.
LIMIT = 16


def refine(pp: ProductPassports, orgs: Orgs, name: str, lot: int, levels: int, *, by: str | None = None) -> list[int]:
    """``levels`` trivial transformations in a row on ``lot`` (each consumes the lot the one
    before made: padding, as a hostile seller would do it); returns ``lot`` and the lots made."""
    lots = [lot]
    for n in range(levels):
        lots += transform(pp, orgs, transformation_id(f"{name}-{n}"), [lots[-1]], [rice(f"{name}-{n:02d}")], by=by)
    return lots


@dataclass(frozen=True)
class Blend:
    """``size`` paddy lots, each milled by its own transformation into a lot for the blend
    and a spare lot (the farmer's other rice, sold elsewhere); the blend consumes the first
    of each and makes one lot."""

    paddies: list[int]
    mills: list[bytes]
    spares: list[int]
    blend: bytes
    blended: int


def blend(pp: ProductPassports, orgs: Orgs, name: str, size: int) -> Blend:
    paddies = pp.commission([paddy(f"{name}-P{n:02d}") for n in range(size)], sender=orgs.producer)
    mills = [transformation_id(f"{name}-mill-{n}") for n in range(size)]
    milled, spares = [], []
    for n, (lot, tid) in enumerate(zip(paddies, mills, strict=True)):
        for_blend, spare = transform(pp, orgs, tid, [lot], [rice(f"{name}-M{n:02d}"), rice(f"{name}-S{n:02d}")])
        milled.append(for_blend)
        spares.append(spare)
    tid = transformation_id(f"{name}-blend")
    (blended,) = transform(pp, orgs, tid, milled, [rice(f"{name}-BLEND")])
    return Blend(paddies, mills, spares, tid, blended)


def recall_gas(chain: Chain, pp: ProductPassports, orgs: Orgs, id_: int) -> int:
    """The gas of a recall of ``id_``, undone after (a snapshot around it)."""
    snapshot = chain.snapshot()
    gas = int(recall(pp, orgs, id_)["gasUsed"])
    chain.revert(snapshot)
    return gas


def test_a_padded_lot_is_processed_and_a_recall_at_its_root_reaches_the_end(
    chain: Chain, pp: ProductPassports, orgs: Orgs, world: World
) -> None:
    """The padding attack of issue 11: a seller chains more trivial transformations on its lot
    than a lineage lists (once refused as too long: the buyer could never process the lot).
    The buyer processes it, twice more; a recall of the seller's very first lot reaches the
    buyer's product, and what the buyer made from anything else is not touched."""
    assert pp.contract.functions.MAX_LINEAGE().call() == LIMIT
    seller = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    (root,) = pp.commission([paddy("P-PAD")], sender=seller)
    lots = refine(pp, orgs, "pad", root, LIMIT + 4, by=seller)
    padded = lots[-1]
    levels = [transformation_id(f"pad-{n}") for n in range(LIMIT + 4)]
    # Beyond the list: the 16 nearest listed, the rest in the recall group.
    assert pp.lineage_of(lots[LIMIT + 1]) == Lineage(levels[LIMIT], False, tuple(reversed(levels[:LIMIT])), False)
    assert pp.lineage_of(padded) == Lineage(levels[-1], False, tuple(reversed(levels[3:-1])), True)
    pp.transfer(padded, orgs.producer, sender=seller)
    hand_over(pp, padded, seller, orgs.producer)
    (own,) = pp.commission([paddy("P-OWN")], sender=orgs.producer)

    (milled,) = transform(pp, orgs, MILL_A, [padded], [rice("M-A")])
    (bagged, other) = transform(pp, orgs, BAG_A, [milled], [bag("A1"), bag("A2")])
    (apart,) = transform(pp, orgs, MILL_B, [own], [rice("M-B")])

    lineage = pp.lineage_of(bagged)
    assert (lineage.origin, lineage.recalled, lineage.grouped, len(lineage.ancestors)) == (BAG_A, False, True, LIMIT)
    assert lineage.ancestors[:2] == (MILL_A, levels[-1])
    assert states(pp, padded, milled, bagged) == [
        (State.CONSUMED, State.CONSUMED),
        (State.CONSUMED, State.CONSUMED),
        (State.ACTIVE, State.ACTIVE),
    ]

    receipt = recall(pp, orgs, root, by=seller)

    assert logs(pp, "TransformationRecalled", receipt) == [{"transformationId": levels[0], "cause": root}]
    assert states(pp, lots[1], padded, milled, bagged, other) == [
        (State.CONSUMED, State.RECALLED),
        (State.CONSUMED, State.RECALLED),
        (State.CONSUMED, State.RECALLED),
        (State.ACTIVE, State.RECALLED),
        (State.ACTIVE, State.RECALLED),
    ]
    assert pp.lineage_of(bagged).recalled is True
    assert pp.verify(bag("A1")).state is State.RECALLED
    assert states(pp, apart) == [(State.ACTIVE, State.ACTIVE)]
    # Its consumer's flag and its recall group root's, whatever descends from it: at most
    # one more write and a walk of log2(transformations) reads over a recall of a lot
    # whose consumer is in no group.
    (plain,) = pp.commission([paddy("P-PLAIN")], sender=orgs.producer)
    transform(pp, orgs, MILL_B, [plain], [])
    hops = (LIMIT + 7).bit_length()
    assert int(receipt["gasUsed"]) <= recall_gas(chain, pp, orgs, plain) + 5_000 + hops * 2_200


def test_a_blend_of_twenty_lots_is_recalled_through_any_of_them_and_touches_no_other_rice(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    """A blend of 20 lots, each from its own milling, descends from 20 transformations (once
    refused). A recall of any of the 20 paddy lots reaches the blend; the farmers' other
    rice, and what another shop made from it, shows only its own farmer's recall."""
    b = blend(pp, orgs, "B", 20)
    lineage = pp.lineage_of(b.blended)
    assert (lineage.origin, lineage.grouped, lineage.ancestors) == (b.blend, True, tuple(b.mills[:LIMIT]))
    # Another shop makes bread of farmer 18's other rice (no recall group: 1 ancestor).
    (bread,) = transform(pp, orgs, BAG_B, [b.spares[18]], [bag("BREAD")])
    assert pp.lineage_of(bread) == Lineage(BAG_B, False, (b.mills[18],), False)

    for farmer in (0, LIMIT - 1, LIMIT, 19):  # listed ones, and ones in the recall group
        snapshot = chain.snapshot()
        recall(pp, orgs, b.paddies[farmer])
        assert states(pp, b.blended)[0][1] is State.RECALLED, farmer
        assert pp.lineage_of(b.blended).recalled is True
        recalled_spares = [n for n, s in enumerate(states(pp, *b.spares)) if s[1] is State.RECALLED]
        assert recalled_spares == [farmer]
        assert states(pp, bread)[0][1] is State.ACTIVE
        chain.revert(snapshot)

    # Farmer 19 recalled (in the group with farmers 16-18): their rice and bread are not.
    recall(pp, orgs, b.paddies[19])
    assert states(pp, b.spares[16], b.spares[17], b.spares[18], bread) == [
        (State.ACTIVE, State.ACTIVE),
        (State.ACTIVE, State.ACTIVE),
        (State.CONSUMED, State.CONSUMED),
        (State.ACTIVE, State.ACTIVE),
    ]
    assert pp.verify(bag("BREAD")).recalled is False


def test_a_recall_after_merges_of_merged_groups_reaches_every_descendant(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    """Two blends with recall groups of their own, blended together, then with a padded
    chain: the groups merge, and the merged group merges again. A recall of any paddy lot below
    reaches the end product and each blend it went into; the over-approximation stays
    within what descends from a transformation whose lineage overflowed: the blends' own
    lots may show a recall from the group they were merged with, no farmer's other rice does."""
    first, second = blend(pp, orgs, "F", LIMIT + 1), blend(pp, orgs, "G", LIMIT + 1)
    (pad_root,) = pp.commission([paddy("P-PAD")], sender=orgs.producer)
    padded = refine(pp, orgs, "pad", pad_root, LIMIT + 2)
    (mixed,) = transform(pp, orgs, MILL_A, [first.blended, second.blended], [rice("MIX-1")])
    (final, other) = transform(pp, orgs, BAG_A, [mixed, padded[-1]], [bag("F1"), bag("F2")])
    assert pp.lineage_of(final).grouped is True
    spares = first.spares + second.spares

    causes = [
        *(b.paddies[n] for b in (first, second) for n in (0, LIMIT)),
        pad_root,
        padded[LIMIT],
    ]
    gas = []
    for cause in causes:
        snapshot = chain.snapshot()
        gas.append(int(recall(pp, orgs, cause)["gasUsed"]))
        assert states(pp, final, other) == [(State.ACTIVE, State.RECALLED)] * 2, hex(cause)
        assert pp.lineage_of(final).recalled is True
        if cause in first.paddies:
            assert states(pp, first.blended, mixed) == [(State.CONSUMED, State.RECALLED)] * 2
        # Never a farmer's other rice, unless it is the recalled farmer's.
        recalled = {spares[n] for n, s in enumerate(states(pp, *spares)) if s[1] is State.RECALLED}
        paddies = first.paddies + second.paddies
        assert recalled <= {spares[n] for n, p in enumerate(paddies) if p == cause}
        chain.revert(snapshot)

    # A recall writes at most its consumer's flag and its group root's, found at most
    # log2(transformations) hops up (union by rank), whatever descends from it. (Of the
    # paddy lots: a recalled lot made by a transformation reads its own lineage first.)
    transformations = 2 * (LIMIT + 2) + LIMIT + 2 + 2
    hops = transformations.bit_length()
    plain = gas[0]  # its consumer (the first milling) is listed everywhere: in no group
    assert max(gas[:-1]) <= plain + 5_000 + hops * 2_200, (gas, hops)


def test_the_over_approximation_a_buyer_can_cause_stays_downstream_of_the_overflow(
    chain: Chain, pp: ProductPassports, orgs: Orgs, world: World
) -> None:
    """The limit docs/passport-rules.md states, pinned: a buyer of one lot of a blend whose
    lineage overflowed blends it with lots of its own beyond the bound (merging the recall
    groups) and recalls one of its own inputs. The blend's other lot shows recalled (it
    reads the merged group: the over-approximation), with the cause named in the event; no
    farmer's other rice does, nor anything made without an overflow."""
    bakery = blend(pp, orgs, "B", LIMIT + 2)
    (second,) = transform(pp, orgs, bakery.blend, [], [rice("B-BLEND-2")])
    buyer = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    pp.transfer(bakery.blended, buyer, sender=orgs.producer)
    hand_over(pp, bakery.blended, orgs.producer, buyer)
    own = pp.commission([paddy(f"X-P{n:02d}") for n in range(LIMIT + 1)], sender=buyer)
    milled = [transform(pp, orgs, transformation_id(f"X-mill-{n}"), [lot], [rice(f"X-M{n:02d}")], by=buyer)[0]
              for n, lot in enumerate(own)]  # fmt: skip
    transform(pp, orgs, transformation_id("X-blend"), [bakery.blended, *milled], [rice("X-BLEND")], by=buyer)
    assert states(pp, second) == [(State.ACTIVE, State.ACTIVE)]

    receipt = recall(pp, orgs, own[-1], by=buyer)

    cause = transformation_id(f"X-mill-{LIMIT}")
    assert logs(pp, "TransformationRecalled", receipt) == [{"transformationId": cause, "cause": own[-1]}]
    assert states(pp, second) == [(State.ACTIVE, State.RECALLED)]
    assert pp.lineage_of(second) == Lineage(bakery.blend, True, tuple(bakery.mills[:LIMIT]), True)
    assert cause not in pp.lineage_of(second).ancestors
    assert [s[1] for s in states(pp, *bakery.spares)] == [State.ACTIVE] * (LIMIT + 2)


# -------------------------------------------------------------------------------- trace


def test_trace_of_a_bag_includes_its_inputs_journeys_once(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    paddy1, paddy2, stray = pp.commission([paddy("P-001"), paddy("P-002"), paddy("P-003")], sender=orgs.producer)
    inspection = EpcisEvent(
        (paddy1, paddy2, stray), BizStep.INSPECTING, Disposition.CONFORMANT, T0, document_hash=CERTIFICATE
    )
    pp.record([inspection], sender=orgs.inspector)
    # A diamond: both milled lots come from the same run, and the bag from both.
    milled1, milled2 = transform(pp, orgs, MILL_A, [paddy1, paddy2], [rice("M-1"), rice("M-2")])
    (sack,) = transform(pp, orgs, BAG_A, [milled1, milled2], [bag("S1")])
    ship(pp, orgs, sack)

    journey = pp.trace(sack)

    def row(e: TraceEntry) -> tuple[str, str | None, int, int | None]:
        return (e.event, e.details.get("biz_step"), e.passport, e.via_input)

    assert [row(e) for e in journey] == [
        ("PassportCommissioned", None, paddy1, paddy1),
        ("PassportCommissioned", None, paddy2, paddy2),
        ("PassportEventRecorded", "inspecting", paddy1, paddy1),
        ("PassportEventRecorded", "inspecting", paddy2, paddy2),
        ("PassportConsumed", None, paddy1, paddy1),
        ("PassportConsumed", None, paddy2, paddy2),
        ("PassportCommissioned", None, milled1, milled1),
        ("PassportProduced", None, milled1, milled1),
        ("PassportCommissioned", None, milled2, milled2),
        ("PassportProduced", None, milled2, milled2),
        ("PassportConsumed", None, milled1, milled1),
        ("PassportConsumed", None, milled2, milled2),
        ("PassportCommissioned", None, sack, None),
        ("PassportProduced", None, sack, None),
        ("PassportEventRecorded", "shipping", sack, None),
    ]
    positions = [(e.block_number, e.transaction_index, e.log_index) for e in journey]
    assert positions == sorted(positions)
    assert len({(e.tx_hash, e.log_index) for e in journey}) == len(journey)
    inspected = journey[2]
    assert (inspected.actor, inspected.details["document_hash"]) == (orgs.inspector, "0x" + CERTIFICATE.hex())
    assert inspected.to_json()["via_input"] == hex(paddy1)
    assert journey[7].details["transformation_id"] == "0x" + MILL_A.hex()
    assert journey[-1].to_json()["via_input"] is None
    # The transformation is listed once however many paths lead to it.
    assert pp.lineage_of(sack) == Lineage(BAG_A, False, (MILL_A,))


class LogQueries:
    """Counts the log queries sent to the chain, and stops a trace that never ends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, chain: Chain, limit: int = 200) -> None:
        self.params: list[dict[str, Any]] = []
        real = chain.w3.eth.get_logs

        def counting(params: dict[str, Any]) -> Any:
            self.params.append(params)
            if len(self.params) > limit:
                raise AssertionError(f"more than {limit} log queries: the trace does not end")
            return real(params)  # type: ignore[arg-type]

        monkeypatch.setattr(chain.w3.eth, "get_logs", counting)

    def per_passport(self) -> Counter[tuple[str, int]]:
        """How often each passport's logs (each block chunk of them) were read."""
        return Counter(
            (str(q["topics"][1]), int(q["fromBlock"])) for q in self.params if q["topics"][1:2] not in ([], [None])
        )


def test_trace_reads_each_ancestor_once_however_many_paths_lead_to_it(
    chain: Chain, pp: ProductPassports, orgs: Orgs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ladder of diamonds: each level consumes both lots of the level before. Read
    naively, the lots at the bottom are reached 2**levels times."""
    left, right = pp.commission([paddy("P-0L"), paddy("P-0R")], sender=orgs.producer)
    for level in range(1, 5):
        left, right = transform(
            pp, orgs, transformation_id(f"blend-{level}"), [left, right], [rice(f"B-{level}L"), rice(f"B-{level}R")]
        )
    queries = LogQueries(monkeypatch, chain)

    journey = pp.trace(left)

    # Its own 2 logs; 3 (commissioned, produced, consumed) for each of the 6 blended lots
    # before it; 2 (commissioned, consumed) for each paddy lot.
    assert len(journey) == 2 + 3 * 6 + 2 * 2
    assert len({(e.tx_hash, e.log_index) for e in journey}) == len(journey)
    assert max(queries.per_passport().values()) == 1, queries.per_passport()


def test_a_transformation_cannot_consume_its_own_output(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    """Re-milling part of a run's output back into the same run would make the run its own
    ancestor: refused, with nothing changed."""
    (lot,) = pp.commission([paddy("P-001")], sender=orgs.producer)
    first, second = transform(pp, orgs, MILL_A, [lot], [rice("M-1"), rice("M-2")])

    assert_refused(chain, lambda: transform(pp, orgs, MILL_A, [first], []), "PassportOwnOutput", id=shown(first))

    assert states(pp, first) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.inputs_of(MILL_A) == [lot]
    assert pp.lineage_of(second) == Lineage(MILL_A, False, ())
    # A new run may re-mill it.
    (again,) = transform(pp, orgs, MILL_B, [first], [rice("M-3")])
    assert pp.lineage_of(again) == Lineage(MILL_B, False, (MILL_A,))
