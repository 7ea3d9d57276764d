"""Contract findings of the CLI and demo work on ProductPassport 0.4.0 (issue 11).

Each test states what should hold and FAILS TODAY: it is marked ``xfail(strict=True)`` with
"CONTRACT FINDING" so the suite stays green while the contract is unchanged (.sol files are
not edited on this branch), and turns red the day the contract is fixed: then drop the mark.
"""

from __future__ import annotations

import pytest
from passport_world import GTIN, Orgs, assert_refused, commission_one, hand_over

from chainpass.chain import Chain
from chainpass.errors import ContractRevert
from chainpass.gs1 import ProductKey
from chainpass.passport import ProductPassports

ZERO_ADDRESS = "0x" + "00" * 20


@pytest.mark.xfail(
    strict=True,
    reason="CONTRACT FINDING: repairCustody accepts a zero reason, so the governor's 'audited' repair "
    "can leave no reason on the record (CustodyReassigned(id, governor, 0), like an owner's reclaim)",
)
def test_a_custody_repair_must_name_its_reason(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    id_ = commission_one(pp, orgs, ProductKey.item(GTIN, "REPAIR-1"))
    hand_over(pp, id_, orgs.producer, orgs.carrier)
    repair = pp.contract.functions.repairCustody(id_, orgs.retailer, bytes(32))

    with pytest.raises(ContractRevert):
        chain.transact(repair, orgs.governor)
    assert pp.custodian_of(id_) == orgs.carrier


@pytest.mark.xfail(
    strict=True,
    reason="CONTRACT FINDING: registering a prefix that contains a registered longer one reverts "
    "PassportPrefixTaken naming the zero address as licensee (record.nested counts, names nobody)",
)
def test_a_prefix_overlapping_a_longer_one_is_refused_naming_who_has_it(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    # PRODUCER_PREFIXES registered 9506000 to the producer; 9506 contains it.
    refused = assert_refused(
        chain, lambda: pp.register_prefix("9506", orgs.retailer, sender=orgs.registrar), "PassportPrefixTaken"
    )

    assert ZERO_ADDRESS not in str(refused)
