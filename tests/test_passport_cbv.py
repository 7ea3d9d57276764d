"""The CBV 2.0 vocabularies on chain: observations and their dispositions, steps under way
(in_progress), destroying, keys with GTIN 0 (SSCC containers, GIAI assets), and the
contract's packed rule tables checked against the table docs/cbv.md documents.

Observations, like every physical step, are recorded by whoever holds the goods (any role);
inspecting, also under way, is the inspector's on any passport (issue 11).

Every chain test runs on the embedded EVM and on Anvil, with the organisations of ``passport_world``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from passport_world import GTIN, Orgs, commission_one, event, hand_over, ship, shown, states
from support import assert_refused, logs

from chainpass.artifacts import load_artifact
from chainpass.chain import Chain
from chainpass.enums import BizStep, Disposition, Kind, State
from chainpass.passport import Brand, ProductPassports
from chainpass.standards.gs1 import ProductKey

SOURCE = Path(__file__).resolve().parents[1] / "contracts" / "ProductPassport.sol"

# ------------------------------------------------------------------ the documented table


def load_rule_tables() -> ModuleType:
    """scripts/rule_tables.py: the table the contract's constants are generated from."""
    spec = importlib.util.spec_from_file_location("rule_tables", SOURCE.parents[1] / "scripts" / "rule_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rule_tables = load_rule_tables()


def test_every_disposition_has_a_class_and_the_vocabularies_are_cbv_2() -> None:
    assert set(rule_tables.CLASS) == {d.label for d in Disposition}
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


def test_the_contracts_tables_are_the_generated_table() -> None:
    source = SOURCE.read_text(encoding="utf-8")

    assert rule_tables.check_table() == []
    assert rule_tables.stale(source) == []
    assert rule_tables.rewrite(source) == source  # a rewrite changes nothing, in any constant's style
    assert set(rule_tables.written(source)) == set(rule_tables.constants())


def test_a_constant_wrapped_onto_its_next_line_is_read_and_rewritten() -> None:
    """Prettier puts a constant's value on the next line when the line would pass 120
    characters: the table is read and rewritten all the same, the wrapping kept."""
    source = SOURCE.read_text(encoding="utf-8")
    wrapped = source.replace("constant _UNDER_WAY = ", "constant _UNDER_WAY =\n        ")
    assert wrapped != source

    assert rule_tables.written(wrapped) == rule_tables.written(source)
    assert rule_tables.stale(wrapped) == []
    stale = wrapped.replace(f"{rule_tables.constants()['_UNDER_WAY']:#066x}", f"{0:#066x}")
    assert stale != wrapped
    assert rule_tables.stale(stale) == ["_UNDER_WAY is 0x0 in the contract, 0x44 in the table"]
    assert rule_tables.rewrite(stale) == wrapped


def test_a_changed_rule_is_caught_and_written_into_the_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make rule-tables` fails on a table the contract does not match, and --write makes it
    match: here shipping is also allowed from quarantine (state 3)."""
    contract = tmp_path / "ProductPassport.sol"
    contract.write_text(SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(rule_tables, "CONTRACT", contract)
    start, roles, next_, disposition, classes = rule_tables.LIFECYCLE[BizStep.SHIPPING]
    changed = {
        **rule_tables.LIFECYCLE,
        BizStep.SHIPPING: (start | {State.QUARANTINED}, roles, next_, disposition, classes),
    }
    monkeypatch.setattr(rule_tables, "LIFECYCLE", changed)

    assert rule_tables.main([]) == 1
    assert "_STEP_RULES_0 is 0x" in capsys.readouterr().err
    assert rule_tables.main(["--write"]) == 0
    assert rule_tables.main([]) == 0
    written = rule_tables.written(contract.read_text(encoding="utf-8"))
    assert written["_STEP_RULES_0"] >> (BizStep.SHIPPING * 32) & 0xFF == 0b1010  # active and quarantined
    assert {k: v for k, v in written.items() if k != "_STEP_RULES_0"} == {
        k: v for k, v in rule_tables.written(SOURCE.read_text(encoding="utf-8")).items() if k != "_STEP_RULES_0"
    }


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
