"""Verify: the verdict for a scanned code (genuine or not, its brand, state, journey,
custodian and producer's standing), as Python values, JSON and the contract's struct.

Chain tests run on the embedded EVM, Anvil and Ganache (see conftest.py), from the
organisations of ``passport_world`` (producer, inspector, carrier, customs, retailer,
registrar, a food-safety authority), verified and given their roles once per backend
(``orgs_setup``); each test is isolated by the per-test snapshot of the ``world`` fixture.
"""

from __future__ import annotations

from accounts import World
from passport_world import (
    GTIN,
    ZERO_ADDRESS,
    Orgs,
    commission_one,
    event,
    item_keys,
    load,
    receive,
    sell,
    ship,
    states,
)
from support import assert_refused

from chainpass.chain import Chain
from chainpass.enums import BizStep, Disposition, Role, Standing, State
from chainpass.identity import IdentityRegistry
from chainpass.passport import Brand, ProductPassports
from chainpass.standards.gs1 import ProductKey


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
