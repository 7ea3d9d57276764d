"""`chainpass brand` and the passport commands of issue 11 against a real Anvil node: a brand's
codes are its own, a verdict names the brand and who acted in each step in which relation,
organisations are followed through key changes, custody never freezes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_world import Operator, assert_one_line_error, enlist, from_template, module_template

from chainpass.chain import Chain
from chainpass.node import AnvilNode

GTIN = "09506000134352"
BAG1, BAG2, BAG3 = (f"(01){GTIN}(21)BRAND{n}" for n in (1, 2, 3))
#: Dev accounts by role: 0 governor, 1 bureau (authority), 2 the brand (producer), 3 carrier,
#: 4 retailer, 5 GS1 member organisation (registrar), 6 a second producer, 7 food-safety
#: authority, 8 inspector; 9 has no identity (the brand's new wallet after a recovery).
ROLES = {2: "producer", 3: "carrier", 4: "retailer", 5: "registrar", 6: "producer", 7: "food_safety", 8: "inspector"}


def _brand_steps(op: Operator, attributes: Path) -> None:
    """A fresh deployment: the organisations of ROLES verified by the bureau with their roles,
    and GS1 company prefix 9506000 registered to the brand (2) by the registrar (5)."""
    op.ok("deploy")
    op.ok("identity", "appoint-authority", op.accounts[1], "--max-level", "high")
    enlist(op, attributes, ROLES)
    op.ok("brand", "register", "9506000", op.accounts[2], "--account", "5")


@pytest.fixture(scope="module")
def template(anvil_node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``_brand_steps``' chainpass home, set up once for the module."""
    yield from module_template(anvil_node, tmp_path_factory, "brands", _brand_steps)


@pytest.fixture
def brands(operator: Operator, template: Path, tmp_path: Path) -> Iterator[Operator]:
    """``_brand_steps``' state, each test from a fresh copy of it."""
    yield from from_template(operator, template, tmp_path)


def test_the_brand_is_registered_to_its_licensee(brands: Operator) -> None:
    brand = brands.ok("brand", "show", "9506000", "--json").json()["brand"]
    assert brand["prefix"] == "9506000" and brand["licensee"] == brands.accounts[2]


def _hand_over(op: Operator, code: str, holder: int, receiver: int, path: Path) -> None:
    op.ok("passport", "offer", code, "--to", op.accounts[receiver], "--out", str(path), "--account", str(holder))
    op.ok("passport", "accept", str(path), "--account", str(receiver))


def test_a_brand_owns_its_codes_and_licenses_them(brands: Operator) -> None:
    op = brands
    brand, other = op.accounts[2], op.accounts[6]

    by_prefix = op.ok("brand", "show", "9506000", "--json").json()
    by_code = op.ok("brand", "show", BAG1, "--org", other).out
    nobody = op.ok("brand", "show", "4006381", "--json").json()
    inside = op.ok("brand", "show", "95060001").out
    squatting = op.run("passport", "commission", BAG1, "--account", "6")
    foreign = op.run("passport", "commission", "(01)04006381333931(21)X1", "--account", "2")

    assert by_prefix["brand"] == {"prefix": "9506000", "licensee": brand}
    assert f"registered to the brand {brand}; {other} is not licensed for it" in by_code
    assert "`chainpass brand license 9506000" in by_code
    assert nobody["brand"] is None
    assert (
        op.ok("brand", "show", "9506000").out.strip() == f"GS1 company prefix 9506000: registered to the brand {brand}."
    )
    assert f"GS1 company prefix 95060001: inside GS1 company prefix 9506000, registered to the brand {brand}" in inside
    assert_one_line_error(squatting, f"holds no licence from {brand}, the brand that owns the GS1 company prefix")
    assert_one_line_error(foreign, "No brand is registered for the GS1 company prefix of GTIN 04006381333931")

    # The brand licenses the second producer for its GTIN: it may commission that GTIN, for the brand.
    granted = op.ok("brand", "license", "9506000", other, "--gtin", GTIN, "--account", "2", "--json").json()
    licensed = op.ok("brand", "show", BAG2, "--org", other, "--json").json()
    op.ok("passport", "commission", BAG2, "--account", "6")
    made = op.ok("passport", "verify", BAG2, "--json").json()
    human = op.ok("passport", "verify", BAG2).out
    not_the_brand = op.run("brand", "license", "9506000", op.accounts[3], "--account", "6")
    op.ok("brand", "license", "9506000", other, "--gtin", GTIN, "--revoke", "--account", "2")
    revoked = op.run("passport", "commission", BAG3, "--account", "6")

    assert granted["granted"] is True and granted["gtin"] == GTIN
    assert licensed["licensed"] is True and licensed["brand"]["licensee"] == brand
    assert made["genuine"] is True and made["producer"] == other and made["brand"]["licensee"] == brand
    assert f"producer {other} (for the brand) stands verified today (valid)" in human
    assert_one_line_error(not_the_brand, f"Only {brand}, the licensee of GS1 company prefix 9506000")
    assert_one_line_error(revoked, f"holds no licence from {brand}")
    assert op.ok("brand", "show", BAG2, "--org", other, "--json").json()["licensed"] is False

    # Prefixes never nest, and the registrar alone registers; a revoked prefix takes no new
    # codes, while what was made under it stays genuine.
    taken = op.run("brand", "register", "95060001", other, "--account", "5")
    not_registrar = op.run("brand", "register", "4006381", other, "--account", "6")
    malformed = op.run("brand", "register", "12", other, "--account", "5")
    op.ok("brand", "revoke", "9506000", "--account", "5")
    after = op.run("passport", "commission", BAG3, "--account", "2")
    still = op.ok("passport", "verify", BAG2, "--json").json()

    assert_one_line_error(taken, f"is registered to {brand} already")
    assert_one_line_error(not_registrar, "does not hold the passport role this needs")
    assert_one_line_error(malformed, "'12' is not a GS1 company prefix")
    assert_one_line_error(after, "No brand is registered for the GS1 company prefix")
    assert still["genuine"] is True and still["brand"] is None


def test_a_verdict_names_the_brand_and_the_relation_behind_each_step(brands: Operator, tmp_path: Path) -> None:
    op = brands
    brand, carrier, retailer, authority, inspector = (op.accounts[i] for i in (2, 3, 4, 7, 8))
    op.ok("passport", "commission", BAG1, "--account", "2")
    op.ok("passport", "event", BAG1, "--biz-step", "inspecting", "--disposition", "conformant", "--account", "8")
    op.ok("passport", "event", BAG1, "--biz-step", "shipping", "--disposition", "in_transit", "--account", "2")
    _hand_over(op, BAG1, 2, 3, tmp_path / "to-carrier.json")
    not_holder = op.run("passport", "event", BAG1, "--biz-step", "receiving", "--disposition", "sellable",
                        "--account", "2")  # fmt: skip
    op.ok("passport", "event", BAG1, "--biz-step", "receiving", "--disposition", "sellable", "--account", "3")
    _hand_over(op, BAG1, 3, 4, tmp_path / "to-shop.json")
    op.ok("passport", "event", BAG1, "--biz-step", "retail_selling", "--disposition", "retail_sold", "--account", "4")
    sold = op.ok("passport", "verify", BAG1, "--json").json()
    # Back in the trade: the shop quarantines it (damaged), the inspector clears it again.
    op.ok("passport", "event", BAG1, "--biz-step", "accepting", "--disposition", "damaged", "--account", "4")
    op.ok("passport", "event", BAG1, "--biz-step", "inspecting", "--disposition", "conformant", "--account", "8")
    returned = op.ok("passport", "verify", BAG1, "--json").json()
    returned_text = op.ok("passport", "verify", BAG1).out
    op.ok("passport", "recall", BAG1, "--account", "7")

    verdict = op.no("passport", "verify", BAG1, "--json").json()  # recalled: a negative answer, exit 3
    human = op.no("passport", "verify", BAG1).out
    trace = op.ok("passport", "trace", BAG1, "--json").json()
    traced = op.ok("passport", "trace", BAG1).out
    shown = op.ok("passport", "show", BAG1, "--json").json()

    assert_one_line_error(not_holder, f"Only {carrier}, who holds the goods of passport")
    assert sold["sold"] is True and sold["sold_once"] is True and sold["returned"] is False
    assert returned["state"] == "active" and returned["sold_once"] is True and returned["returned"] is True
    assert "GENUINE; SOLD ONCE AND RETURNED: back in the trade since" in returned_text
    assert verdict["brand"] == {"prefix": "9506000", "licensee": brand} == shown["brand"]
    assert verdict["producer"] == brand and verdict["producer_standing"] == "valid"
    assert verdict["recalled"] is True and verdict["sold_once"] is True
    steps = [(e.get("biz_step") or e["event"], e["actor"], e["relation"]) for e in trace]
    assert steps == [
        ("PassportCommissioned", brand, "producer"),
        ("inspecting", inspector, "inspector"),
        ("shipping", brand, "holder"),
        ("CustodyTransferred", carrier, "new holder"),
        ("receiving", carrier, "holder"),
        ("CustodyTransferred", retailer, "new holder"),
        ("retail_selling", retailer, "holder"),
        ("accepting", retailer, "holder"),
        ("inspecting", inspector, "inspector"),
        ("recalling", authority, "food-safety authority"),
    ]
    assert [(e["actor"], e["relation"]) for e in verdict["journey"]] == [(a, r) for _, a, r in steps]
    lines = human.splitlines()
    assert (
        lines[0] == f"{BAG1}: GENUINE; RECALLED: do not sell or eat; SOLD ALREADY: if you are buying it now, "
        "this code may be a copy"
    )
    assert lines[1] == f"brand {brand} (GS1 company prefix 9506000)"
    assert lines[2] == f"producer {brand} (the brand itself) stands verified today (valid); held by {retailer}"
    assert f"recalling -> recalled, by {authority} (food-safety authority)" in human
    assert traced.splitlines()[0] == f"{BAG1}: brand {brand} (GS1 company prefix 9506000)"
    assert f"receiving -> sellable, by {carrier} (holder)" in traced


def test_the_producer_s_standing_today_does_not_change_what_it_made(brands: Operator) -> None:
    op = brands
    op.ok("passport", "commission", BAG1, "--account", "2")
    op.ok("identity", "revoke", op.accounts[2], "--account", "1")

    verdict = op.ok("passport", "verify", BAG1, "--json").json()
    human = op.ok("passport", "verify", BAG1).out

    assert verdict["genuine"] is True and verdict["producer_standing"] == "revoked"
    assert "GENUINE" in human and "NOT GENUINE" not in human
    assert "does NOT stand verified today (revoked); what it made stays genuine" in human


def test_an_organisation_is_followed_to_its_new_wallet(brands: Operator) -> None:
    op = brands
    old, new = op.accounts[2], op.accounts[9]
    op.ok("passport", "commission", BAG1, "--account", "2")
    premature = op.run("passport", "follow", old, "--account", "3")
    op.ok("identity", "recovery", "request", old, new, "--account", "1")
    Chain.connect(op.rpc).advance_time(3 * 24 * 3600 + 1)
    op.ok("identity", "recovery", "complete", old, "--account", "1")

    followed = op.ok("passport", "follow", old, "--account", "3", "--json").json()

    stale = op.run("passport", "commission", BAG2, "--account", "2")

    roles = op.ok("passport", "roles", old, "--json").json()
    roles_text = op.ok("passport", "roles", old).out
    op.ok("passport", "commission", BAG2, "--account", "9")
    verdict = op.ok("passport", "verify", BAG1, "--json").json()
    shown = op.ok("passport", "show", BAG1, "--json").json()
    assert_one_line_error(premature, "has not moved in the registry, so there is nothing to follow")
    assert_one_line_error(stale, f"moved to {new}")
    assert followed["old_wallet"] == old and followed["wallet"] == new and followed["gas_used"] > 0
    assert roles == {"account": old, "wallet": new, "roles": ["producer"]}
    assert roles_text.strip() == f"{old} (its organisation acts from {new} now): producer"
    assert verdict["genuine"] is True and verdict["producer"] == new and verdict["brand"]["licensee"] == new
    assert shown["owner"] == new and shown["custodian"] == new


def test_custody_never_freezes(brands: Operator, tmp_path: Path) -> None:
    op = brands
    owner, carrier, retailer, governor = (op.accounts[i] for i in (2, 3, 4, 0))
    op.ok("passport", "commission", BAG1, BAG2, "--account", "2")
    _hand_over(op, BAG1, 2, 3, tmp_path / "bag1.json")
    _hand_over(op, BAG2, 2, 3, tmp_path / "bag2.json")
    in_force = op.run("passport", "reclaim", BAG1, "--account", "2")
    op.ok("identity", "revoke", carrier, "--account", "1")

    reclaimed = op.ok("passport", "reclaim", BAG1, "--account", "2", "--json").json()
    not_governor = op.run("passport", "repair", BAG2, retailer, "--reason", "decision 2026-7", "--account", "2")
    no_reason = op.run("passport", "repair", BAG2, retailer, "--reason", " ", "--account", "0")
    repaired = op.ok("passport", "repair", BAG2, retailer, "--reason", "decision 2026-7", "--account", "0").out

    assert_one_line_error(in_force, "still stands in the registry")
    assert reclaimed["custodian"] == owner
    assert_one_line_error(not_governor, "is not the passport governor")
    assert_one_line_error(no_reason, "needs the reason")
    assert f"{retailer} holds {BAG2} now, by the governor's repair" in repaired
    assert op.ok("passport", "show", BAG2, "--json").json()["custodian"] == retailer
    last = {code: op.ok("passport", "trace", code, "--json").json()[-2:] for code in (BAG1, BAG2)}
    assert [(e["event"], e["actor"], e["relation"]) for e in last[BAG1]] == [
        ("CustodyReassigned", owner, "owner"),
        ("CustodyTransferred", owner, "new holder"),
    ]
    assert [(e["event"], e["actor"], e["relation"]) for e in last[BAG2]] == [
        ("CustodyReassigned", governor, "governor"),
        ("CustodyTransferred", retailer, "new holder"),
    ]


def test_set_roles_takes_the_new_roles(brands: Operator) -> None:
    op = brands
    given = op.ok("passport", "set-roles", op.accounts[9], "--role", "registrar", "--role", "food_safety", "--json")
    unknown = op.run("passport", "set-roles", op.accounts[9], "--role", "wizard")

    assert given.json()["roles"] == ["registrar", "food_safety"]
    assert op.ok("passport", "roles", op.accounts[7], "--json").json()["roles"] == ["food_safety"]
    assert op.ok("passport", "roles", op.accounts[9]).out.strip() == f"{op.accounts[9]}: registrar, food_safety"
    assert unknown.code == 2 and "registrar" in unknown.err and "food_safety" in unknown.err
