"""Findings of the CLI and demo work on ProductPassport 0.4.0 (issue 11), fixed in the
contract and pinned here: a custody repair names its reason, and a prefix that contains a
registered one is refused with an error that says so (not naming the zero address).
"""

from __future__ import annotations

from passport_world import GTIN, Orgs, commission_one, hand_over
from support import assert_refused

from chainpass.chain import Chain
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import ProductKey

ZERO_ADDRESS = "0x" + "00" * 20


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
