"""The CBV 2.0 vocabularies on chain: observations and their dispositions, steps under way
(in_progress), destroying, keys with GTIN 0 (SSCC containers, GIAI assets), and the
contract's packed rule tables checked against the table docs/cbv.md documents.

Observations, like every physical step, are recorded by whoever holds the goods (any role);
inspecting, also under way, is the inspector's on any passport (issue 11).

Every chain test runs on the embedded EVM and on Anvil, with the organisations of ``passport_world``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from passport_world import (
    GTIN,
    Orgs,
    assert_refused,
    commission_one,
    event,
    hand_over,
    logs,
    ship,
    shown,
    states,
)

from chainpass.artifacts import load_artifact
from chainpass.chain import Chain
from chainpass.gs1 import Kind, ProductKey
from chainpass.passport import BizStep, Brand, Disposition, ProductPassports, Role, State

SOURCE = Path(__file__).resolve().parents[1] / "contracts" / "ProductPassport.sol"

# ------------------------------------------------------------------ the documented table

#: Disposition classes (docs/cbv.md): what an observation does with each.
USABLE = {"active", "sellable", "available", "container_closed", "container_open", "encoded", "in_progress",
          "partially_dispensed", "reserved", "returned", "sellable_accessible", "sellable_not_accessible"}  # fmt: skip
QUARANTINING = {"non_conformant", "damaged", "expired", "mismatch_class", "mismatch_instance", "mismatch_quantity",
                "needs_replacement", "no_pedigree_match", "stolen"}  # fmt: skip
NEUTRAL = {"completeness_inferred", "completeness_verified", "non_sellable_other", "unavailable", "unknown"}
OWN_STEP = {"recalled", "retail_sold", "inactive", "destroyed", "dispensed", "disposed"}
CLASS = {"none": 0, "in_transit": 2, "conformant": 4, **dict.fromkeys(USABLE, 1), **dict.fromkeys(QUARANTINING, 3),
         **dict.fromkeys(NEUTRAL, 5), **dict.fromkeys(OWN_STEP, 6)}  # fmt: skip
MOVERS = Role.PRODUCER | Role.CARRIER | Role.RETAILER
LIVE = {State.ACTIVE, State.IN_TRANSIT, State.QUARANTINED, State.RECALLED, State.SOLD, State.CONSUMED}
#: Lifecycle steps: (from-states, roles, next state or None (by class), disposition or None, classes taken).
LIFECYCLE = {
    BizStep.INSPECTING: ({State.ACTIVE, State.QUARANTINED}, Role.INSPECTOR, None, None, {3, 4}),
    BizStep.SHIPPING: ({State.ACTIVE}, MOVERS, State.IN_TRANSIT, Disposition.IN_TRANSIT, set()),
    BizStep.RECEIVING: ({State.IN_TRANSIT}, MOVERS, None, None, {1}),
    BizStep.CUSTOMS_RELEASING: ({State.IN_TRANSIT}, Role.CUSTOMS, State.IN_TRANSIT, Disposition.IN_TRANSIT, set()),
    BizStep.CUSTOMS_HOLDING: ({State.IN_TRANSIT}, Role.CUSTOMS, State.QUARANTINED, Disposition.NON_CONFORMANT, set()),
    BizStep.RETAIL_SELLING: ({State.ACTIVE}, Role.RETAILER, State.SOLD, Disposition.RETAIL_SOLD, set()),
    BizStep.RECALLING: (LIVE - {State.RECALLED}, Role.PRODUCER, State.RECALLED, Disposition.RECALLED, set()),
    BizStep.DECOMMISSIONING: (LIVE, Role.PRODUCER | Role.RETAILER, State.DECOMMISSIONED, Disposition.INACTIVE, set()),
    BizStep.DESTROYING: (LIVE, Role.PRODUCER | Role.RETAILER, State.DECOMMISSIONED, Disposition.DESTROYED, set()),
}
OWN_FUNCTION = {BizStep.NONE, BizStep.COMMISSIONING, BizStep.PACKING, BizStep.UNPACKING}
MOVES_GOODS = {BizStep.SHIPPING, BizStep.RECEIVING, BizStep.RETAIL_SELLING, BizStep.CUSTOMS_RELEASING,
               BizStep.CUSTOMS_HOLDING}  # fmt: skip
#: The regulators' steps: recorded by their role on any passport, without holding the goods.
REGULATED = {BizStep.INSPECTING: Role.INSPECTOR, BizStep.CUSTOMS_RELEASING: Role.CUSTOMS,
             BizStep.CUSTOMS_HOLDING: Role.CUSTOMS}  # fmt: skip


def observed(class_: int, state: State) -> int:
    """The state an observation leaves (0: refused), by the disposition's class."""
    if class_ == 6:
        return 0
    if class_ == 1 and state is State.IN_TRANSIT:
        return State.ACTIVE
    if class_ == 2 and state is State.ACTIVE:
        return State.IN_TRANSIT
    if class_ == 3 and state in (State.ACTIVE, State.IN_TRANSIT, State.SOLD):
        return State.QUARANTINED
    return state


def packed(entries: dict[int, int], width: int) -> int:
    return sum(value << (key * width) for key, value in entries.items())


def constants() -> dict[str, int]:
    text = SOURCE.read_text(encoding="utf-8")
    return {m[1]: int(m[2], 0) for m in re.finditer(r"constant (_[A-Z_0-9]+) = (0x[0-9a-f]+|\d+);", text)}


def test_every_disposition_has_a_class_and_the_vocabularies_are_cbv_2() -> None:
    assert set(CLASS) == {d.label for d in Disposition}
    assert len(BizStep) == 45 and len(Disposition) == 35
    # Numbers 0-11 and 0-8 are the first model's and never move.
    assert [s.label for s in BizStep][:12] == [
        "none", "commissioning", "inspecting", "packing", "unpacking", "shipping", "receiving",
        "customs_releasing", "customs_holding", "retail_selling", "recalling", "decommissioning",
    ]  # fmt: skip
    assert [d.label for d in Disposition][:9] == [
        "none", "active", "in_transit", "conformant", "non_conformant", "recalled", "sellable", "retail_sold",
        "inactive",
    ]  # fmt: skip
    non_cbv = {s for s in BizStep if not s.is_cbv} | {d for d in Disposition if not d.is_cbv}
    assert {m.label for m in non_cbv} == {"none", "customs_releasing", "customs_holding", "recalling", "sellable"}


def test_the_contracts_tables_are_the_documented_table() -> None:
    found = constants()
    words = [0, 0, 0]
    for step, (start, roles, next_, disposition, _) in LIFECYCLE.items():
        lane = sum(1 << s for s in start) | int(roles) << 8 | int(next_ or 0) << 16 | int(disposition or 0) << 24
        words[step >> 3] |= lane << ((step & 7) * 32)
    assert [found[f"_STEP_RULES_{i}"] for i in range(3)] == words
    assert found["_STEP_CLASSES"] == packed({s: sum(1 << c for c in r[4]) for s, r in LIFECYCLE.items()}, 8)
    assert found["_DISPOSITION_CLASS"] == packed({Disposition.parse(d): c for d, c in CLASS.items()}, 4)
    assert found["_OBSERVED_NEXT"] == packed(
        {c * 8 + s: observed(c, State(s)) for c in range(7) for s in range(1, 8)}, 4
    )
    assert found["_CLASS_STATE"] == packed({1: State.ACTIVE, 3: State.QUARANTINED, 4: State.ACTIVE}, 4)
    observations = set(BizStep) - set(LIFECYCLE) - OWN_FUNCTION
    assert found["_OBSERVATIONS"] == sum(1 << s for s in observations)
    assert found["_UNDER_WAY"] == (1 << BizStep.INSPECTING) | (1 << BizStep.RECEIVING)
    assert found["_MOVES_GOODS"] == sum(1 << s for s in MOVES_GOODS)
    assert found["_IN_PROGRESS"] == Disposition.IN_PROGRESS
    assert found["_REGULATED"] == sum(1 << s for s in REGULATED)
    assert all(LIFECYCLE[s][1] == role for s, role in REGULATED.items())


# ------------------------------------------------------------------------ on chain


@pytest.mark.parametrize(
    ("disposition", "before", "after"),
    [
        (Disposition.IN_TRANSIT, State.ACTIVE, State.IN_TRANSIT),
        (Disposition.IN_PROGRESS, State.IN_TRANSIT, State.ACTIVE),
        (Disposition.SELLABLE_ACCESSIBLE, State.ACTIVE, State.ACTIVE),
        (Disposition.DAMAGED, State.ACTIVE, State.QUARANTINED),
        (Disposition.STOLEN, State.IN_TRANSIT, State.QUARANTINED),
        (Disposition.UNKNOWN, State.IN_TRANSIT, State.IN_TRANSIT),
        (Disposition.CONFORMANT, State.ACTIVE, State.ACTIVE),
        (Disposition.NONE, State.ACTIVE, State.ACTIVE),
    ],
)
def test_an_observation_changes_state_only_as_its_disposition_implies(
    chain: Chain, pp: ProductPassports, orgs: Orgs, disposition: Disposition, before: State, after: State
) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "OBS1"))
    if before is State.IN_TRANSIT:
        ship(pp, orgs, item)
    # Any role records an observation on goods it holds: here customs, which ships nothing,
    # once the goods are handed to it.
    hand_over(pp, item, orgs.producer, orgs.customs)
    receipt = pp.record([event(item, BizStep.TRANSPORTING, disposition)], sender=orgs.customs)
    assert states(pp, item) == [(after, after)]
    (log,) = logs(pp, "PassportEventRecorded", receipt)
    assert (log["id"], log["actor"]) == (item, orgs.customs)
    assert (log["bizStep"], log["disposition"]) == (BizStep.TRANSPORTING, disposition)


@pytest.mark.parametrize("who", ["producer", "carrier", "inspector", "customs", "retailer"])
def test_an_observation_is_recorded_only_by_whoever_holds_the_goods(
    chain: Chain, pp: ProductPassports, orgs: Orgs, who: str
) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "OBS3"))
    hand_over(pp, item, orgs.producer, orgs.carrier)
    account = orgs.by_name(who)
    observe = event(item, BizStep.ARRIVING, Disposition.STOLEN)

    if who == "carrier":
        receipt = pp.record([observe], sender=account)
        assert [(e["id"], e["actor"]) for e in logs(pp, "PassportEventRecorded", receipt)] == [(item, account)]
        assert states(pp, item) == [(State.QUARANTINED, State.QUARANTINED)]
    else:  # its owner and producer too: the carrier holds the goods now
        assert_refused(
            chain,
            lambda: pp.record([observe], sender=account),
            "PassportNotHolder",
            id=shown(item),
            holder=orgs.carrier,
            account=account,
        )
        assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]


def test_observations_never_lift_a_quarantine_or_a_sale_and_never_record_final_dispositions(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "OBS2"))
    pp.record([event(item, BizStep.SAMPLING, Disposition.EXPIRED)], sender=orgs.producer)
    assert states(pp, item) == [(State.QUARANTINED, State.QUARANTINED)]
    hand_over(pp, item, orgs.producer, orgs.retailer)
    pp.record([event(item, BizStep.ARRIVING, Disposition.ACTIVE)], sender=orgs.retailer)
    assert states(pp, item) == [(State.QUARANTINED, State.QUARANTINED)]
    for final in (Disposition.RETAIL_SOLD, Disposition.RECALLED, Disposition.DESTROYED, Disposition.INACTIVE):
        assert_refused(
            chain,
            lambda final=final: pp.record([event(item, BizStep.STORING, final)], sender=orgs.retailer),
            "PassportInvalidDisposition",
            bizStep="storing",
            disposition=final.label,
        )
    # Only a conformant inspection lifts it, as before.
    pp.record([event(item, BizStep.INSPECTING, Disposition.CONFORMANT)], sender=orgs.inspector)
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]


def test_receiving_and_inspecting_in_progress_are_observations(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "UW1"))
    # Receiving with a usable disposition needs goods in transit, as before; in progress it does not.
    assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.RECEIVING, Disposition.ACTIVE)], sender=orgs.producer),
        "PassportInvalidTransition",
    )
    pp.record([event(item, BizStep.RECEIVING, Disposition.IN_PROGRESS)], sender=orgs.producer)
    # Inspecting under way is the inspector's, on goods it does not hold, or the holder's own
    # quality check; nobody else's.
    assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.INSPECTING, Disposition.IN_PROGRESS)], sender=orgs.carrier),
        "PassportNotHolder",
        account=orgs.carrier,
        holder=orgs.producer,
    )
    own_check = pp.record([event(item, BizStep.INSPECTING, Disposition.IN_PROGRESS)], sender=orgs.producer)
    inspected = pp.record([event(item, BizStep.INSPECTING, Disposition.IN_PROGRESS)], sender=orgs.inspector)
    assert [e["actor"] for e in logs(pp, "PassportEventRecorded", own_check)] == [orgs.producer]
    assert [e["actor"] for e in logs(pp, "PassportEventRecorded", inspected)] == [orgs.inspector]
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
    # Received in progress, and then done, by whoever holds the goods on arrival.
    ship(pp, orgs, item)
    hand_over(pp, item, orgs.producer, orgs.retailer)
    assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.RECEIVING, Disposition.IN_PROGRESS)], sender=orgs.producer),
        "PassportNotHolder",
        holder=orgs.retailer,
    )
    pp.record([event(item, BizStep.RECEIVING, Disposition.SELLABLE_ACCESSIBLE)], sender=orgs.retailer)
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
    # A failed inspection takes any quarantining disposition; not a usable one.
    pp.record([event(item, BizStep.INSPECTING, Disposition.DAMAGED)], sender=orgs.inspector)
    assert states(pp, item) == [(State.QUARANTINED, State.QUARANTINED)]
    assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.INSPECTING, Disposition.AVAILABLE)], sender=orgs.inspector),
        "PassportInvalidDisposition",
        bizStep="inspecting",
        disposition="available",
    )


def test_destroying_decommissions_and_nothing_follows(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "DST1"))
    assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.DESTROYING, Disposition.DESTROYED)], sender=orgs.carrier),
        "PassportMissingRole",
    )
    assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.DESTROYING, Disposition.DISPOSED)], sender=orgs.producer),
        "PassportInvalidDisposition",
    )
    pp.record([event(item, BizStep.DESTROYING, Disposition.DESTROYED)], sender=orgs.producer)
    assert states(pp, item) == [(State.DECOMMISSIONED, State.DECOMMISSIONED)]
    assert_refused(
        chain,
        lambda: pp.record([event(item, BizStep.SENSOR_REPORTING, Disposition.NONE)], sender=orgs.carrier),
        "PassportInvalidTransition",
        bizStep="sensor_reporting",
    )


def test_an_extension_step_is_recorded_as_other(pp: ProductPassports, orgs: Orgs) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "OTH1"))
    pp.record([event(item, BizStep.OTHER, Disposition.IN_TRANSIT, event_id=b"\x01" * 32)], sender=orgs.producer)
    (entry,) = [e for e in pp.trace(item) if e.event == "PassportEventRecorded"]
    assert (entry.details["biz_step"], entry.details["disposition"]) == ("other", "in_transit")
    assert entry.details["event_id"] == "0x" + "01" * 32
    assert states(pp, item) == [(State.IN_TRANSIT, State.IN_TRANSIT)]


SSCC = "106141412345678908"


def test_an_sscc_container_and_a_giai_asset_are_keyed_by_gtin_0(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    # Each under a prefix registered to the producer: the SSCC's after its extension digit.
    pallet, asset = ProductKey.sscc(SSCC, 2), ProductKey.giai("9506000385w2")
    pallet_id, asset_id = pp.commission([pallet, asset], sender=orgs.producer)
    brands = [Brand("0614141", orgs.producer), Brand("9506000", orgs.producer)]
    assert [pp.brand_of(k) for k in (pallet, asset)] == brands
    case = commission_one(pp, orgs, ProductKey.container("19506000134359", "CASE9", 1))
    pp.pack(pallet_id, [case], sender=orgs.producer)
    ship(pp, orgs, pallet_id)
    assert states(pp, case) == [(State.ACTIVE, State.IN_TRANSIT)]
    record = pp.passport(asset_id)
    assert record is not None and record.kind is Kind.ITEM
    assert pp.passport_id(ProductKey(0, Kind.CONTAINER, "00" + SSCC, 3)) == pallet_id  # the tier is not in the id


@pytest.mark.parametrize(
    "key",
    [
        ProductKey(0, Kind.LOT, "00" + SSCC),
        ProductKey(0, Kind.ITEM, "00" + SSCC),
        ProductKey(0, Kind.CONTAINER, "8004952005385w2", 1),
        ProductKey(0, Kind.ITEM, "BAG1"),
    ],
    ids=["lot", "item-with-sscc", "container-with-giai", "item-without-ai"],
)
def test_a_gtin_0_key_must_carry_the_right_other_key(
    chain: Chain, pp: ProductPassports, orgs: Orgs, key: ProductKey
) -> None:
    assert_refused(chain, lambda: pp.commission([key], sender=orgs.producer), "PassportInvalidKey")


def test_the_abi_enums_have_the_python_enums_members() -> None:
    abi = load_artifact("ProductPassport").abi
    (recorded,) = [e for e in abi if e.get("name") == "PassportEventRecorded"]
    types = {i["name"]: i.get("internalType") for i in recorded["inputs"]}
    assert types["bizStep"] == "enum IProductPassport.BizStep"
    source = (SOURCE.parent / "interfaces" / "IProductPassport.sol").read_text(encoding="utf-8")
    for enum, members in (("BizStep", BizStep), ("Disposition", Disposition)):
        body = source.split(f"enum {enum} {{", 1)[1].split("}", 1)[0]
        names = [re.sub(r"//.*", "", line).strip().rstrip(",") for line in body.splitlines()]
        names = [n for n in names if n]
        snake = [re.sub(r"(?<!^)([A-Z])", r"_\1", n).lower() for n in names]
        assert snake == [m.label for m in members]
