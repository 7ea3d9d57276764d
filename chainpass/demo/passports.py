"""Part 2 of the demo: a Lankao rice cooperative's paddy, from the field to a shop abroad.

The cooperative, the food-safety bureau, a carrier, customs, a retailer and GS1 China
(the GS1 member organisation that allotted the cooperative its company prefix) are each
verified once in the identity registry (an organisation's record commits to its
registration data, with its founding date as date of birth) and given their passport
role. GS1 China registers the cooperative's prefix to it on chain, so that its codes are
its own. The cooperative commissions paddy lots; the bureau inspects them (one fails, is
quarantined, and passes a re-inspection); the paddy is milled into milled-rice lots and
those are bagged, each step a transformation that keeps the lineage. The bags travel in
a container: the carrier takes custody of it by accepting the cooperative's signed
offer, customs clears it for export once, and the shop abroad takes custody, receives,
unpacks and sells. A recall of one paddy lot later flags exactly the bags made from it,
and a cloned code scanned in a second shop shows as sold already. A counterfeiter with a
verified identity and the producer role cannot commission the cooperative's next code.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.types import TxParams, Wei

from chainpass.attributes import Credential
from chainpass.chain import Chain
from chainpass.deployment import Deployment
from chainpass.enums import BizStep, Disposition, Level, Role
from chainpass.errors import ContractRevert
from chainpass.identity import IdentityRegistry
from chainpass.passport import EpcisEvent, ProductPassports, location_id, transformation_id
from chainpass.standards.gs1 import ProductKey

RICE_GTIN = "09506000134352"
#: The cooperative's GS1 company prefix: the digits of RICE_GTIN after its indicator digit.
RICE_PREFIX = "9506000"
YEAR = 365 * 24 * 3600
ORGANISATIONS = {
    "cooperative": ("Lankao Dongba Rice Cooperative", Role.PRODUCER),
    "bureau": ("Lankao Food Safety Bureau", Role.INSPECTOR),
    "carrier": ("Henan Cold Chain Logistics", Role.CARRIER),
    "customs": ("Zhengzhou Customs", Role.CUSTOMS),
    "shop": ("Rotterdam Asia Market", Role.RETAILER),
    "gs1": ("GS1 China", Role.REGISTRAR),
}
#: A trader verified and appointed producer for its own rice, who would sell it as Lankao's.
COUNTERFEITER = ("Shangqiu Golden Grain Trading", Role.PRODUCER)


def run_passport_demo(
    chain: Chain, deployment: Deployment, say: Callable[[str], None] = print
) -> tuple[list[str], dict[str, LocalAccount]]:
    """Play part 2 on the registry and passports of ``deployment``; returns the codes a scan flags
    as recalled, and the organisations' wallets (part 3 trades with them)."""
    governor, authority = chain.dev_accounts()[:2]
    wallets = {key: Account.create() for key in [*ORGANISATIONS, "counterfeiter"]}
    for wallet in wallets.values():  # organisations pay their own gas
        chain.transact(TxParams(to=wallet.address, value=Wei(10**18)), governor)
    orgs = {key: wallet.address for key, wallet in wallets.items()}
    registry = IdentityRegistry.from_deployment(chain, deployment)
    passports = ProductPassports.from_deployment(chain, deployment)
    expires = chain.latest_timestamp() + 10 * YEAR
    for key, (name, role) in [*ORGANISATIONS.items(), ("counterfeiter", COUNTERFEITER)]:
        company = {"name": name, "date_of_birth": "2001-05-01", "national_id": f"9141022{key.upper()}",
                   "address": "Henan, China"}  # fmt: skip
        registry.verify(Credential.issue(orgs[key], company), Level.HIGH, expires, sender=authority)
        passports.set_roles(orgs[key], role, sender=governor)
    say("10. Six organisations are verified once in the registry and get their passport roles: a rice")
    say("    cooperative (producer), the food-safety bureau (inspector), a carrier, customs, a shop abroad and")
    say("    GS1 China (registrar, the GS1 member organisation).")

    coop = wallets["cooperative"]
    passports.register_prefix(RICE_PREFIX, orgs["cooperative"], sender=wallets["gs1"])
    paddy = [ProductKey.lot(RICE_GTIN, f"LK2026-P{n}") for n in (1, 2, 3)]
    paddy_ids = passports.commission(paddy, metadata_uri="https://coop.example/lk2026/paddy", sender=coop)
    say(f"11. GS1 China registers the cooperative's GS1 company prefix {RICE_PREFIX} to it: only the cooperative,")
    say("    and whom it licenses, commission codes under it. The cooperative commissions 3 paddy lots from its")
    say(f"    fields, e.g. {paddy[0].digital_link()}")

    now = chain.latest_timestamp()
    field = location_id("urn:epc:id:sgln:9506000.00001.0")

    def record(ids: list[int], step: BizStep, disposition: Disposition, actor: str) -> None:
        passports.record([EpcisEvent(tuple(ids), step, disposition, now, field)], sender=wallets[actor])

    record([paddy_ids[0], paddy_ids[2]], BizStep.INSPECTING, Disposition.CONFORMANT, "bureau")
    record([paddy_ids[1]], BizStep.INSPECTING, Disposition.NON_CONFORMANT, "bureau")
    quarantined = passports.passport(paddy_ids[1])
    record([paddy_ids[1]], BizStep.INSPECTING, Disposition.CONFORMANT, "bureau")
    released = passports.passport(paddy_ids[1])
    say(f"12. The bureau inspects: lots P1 and P3 pass; P2 fails and is "
        f"{quarantined.state.label if quarantined else '?'}, then passes a re-inspection: "
        f"{released.state.label if released else '?'}.")  # fmt: skip

    milled = [ProductKey.lot(RICE_GTIN, f"LK2026-M{n}") for n in (1, 2)]
    bags = {run: [ProductKey.item(RICE_GTIN, f"LK2026-M{run}-{n:03d}") for n in (1, 2, 3)] for run in (1, 2)}
    for run, inputs in ((1, paddy_ids[:2]), (2, paddy_ids[2:])):
        [milled_id] = passports.transform(transformation_id(f"lankao-mill-run-{run}"), inputs, [milled[run - 1]],
                                          sender=coop)  # fmt: skip
        passports.transform(transformation_id(f"lankao-bagging-{run}"), [milled_id], bags[run],
                            metadata_uri="https://coop.example/lk2026/bag-5kg", sender=coop)  # fmt: skip
    say("13. The paddy is milled: P1 and P2 into milled lot M1, P3 into M2; each milled lot is bagged into")
    say(f"    3 retail bags, e.g. {bags[1][0].digital_link()}; each step keeps the lineage.")

    all_bags = bags[1] + bags[2]
    bag_ids = [passports.passport_id(k) for k in all_bags]
    container = ProductKey.container(RICE_GTIN, "CONT-0001", 3)
    [container_id] = passports.commission([container], sender=coop)
    passports.pack(container_id, bag_ids, sender=coop)
    record([container_id], BizStep.SHIPPING, Disposition.IN_TRANSIT, "cooperative")
    deadline = chain.latest_timestamp() + 24 * 3600

    def hand_over(holder: str, receiver: str) -> int:
        offer = passports.custody_offer(container_id, orgs[receiver], deadline=deadline)
        signed = passports.sign_offer(offer, signer=wallets[holder])  # a signature: no gas
        return int(passports.accept_custody(signed, sender=wallets[receiver])["gasUsed"])

    gas = hand_over("cooperative", "carrier")
    say(f"14. The cooperative packs the bags into container {container} and ships it. It signs a custody")
    say(f"    offer; the carrier accepts it ({gas:,} gas) and now holds the goods the cooperative still owns.")
    record([container_id], BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, "customs")
    inside = passports.passport(bag_ids[0])
    standing = inside.effective_state.label if inside else "?"
    say(f"15. Customs clears the container for export once; that covers every bag (a bag stands {standing}).")

    hand_over("carrier", "shop")
    record([container_id], BizStep.RECEIVING, Disposition.SELLABLE, "shop")
    passports.unpack(bag_ids, sender=wallets["shop"])
    sold = [bags[1][0], bags[2][0]]
    for bag in sold:
        record([passports.passport_id(bag)], BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD, "shop")
    holder = passports.custodian_of(bag_ids[1])
    say(f"16. The shop abroad takes custody, receives the container, unpacks it (the bags are now held by "
        f"{'the shop' if holder == orgs['shop'] else holder}) and sells two bags.")  # fmt: skip

    record([paddy_ids[1]], BizStep.RECALLING, Disposition.RECALLED, "cooperative")
    flagged = [str(k) for k in all_bags if passports.verify(k).recalled]
    say("17. Paddy lot P2 is recalled, long after it was milled. A scan now flags exactly the bags made from it:")
    say(f"    {', '.join(flagged)}.")
    clone = passports.verify(bags[2][0])
    brand = "the cooperative" if clone.brand and clone.brand.licensee == orgs["cooperative"] else clone.brand
    say(f"18. A copy of a sold bag's code is scanned in another shop: genuine={clone.genuine}, brand {brand} "
        f"(prefix {clone.brand.prefix if clone.brand else '?'}),")  # fmt: skip
    say(f"    state {clone.state.label}: the clone shows up.")

    next_bag = ProductKey.item(RICE_GTIN, f"LK2026-M2-{len(bags[2]) + 1:03d}")
    try:
        passports.commission([next_bag], sender=wallets["counterfeiter"])
        refusal = "it went through (this must not happen)"
    except ContractRevert as refused:
        refusal = f"refused: {refused}"
    say("19. A counterfeiter, verified in the registry and appointed producer for its own rice, tries to commission")
    say(f"    the cooperative's next bag code {next_bag} to sell its rice as Lankao's. It is")
    for line in textwrap.wrap(refusal, width=100):
        say(f"    {line}")
    return flagged, wallets
