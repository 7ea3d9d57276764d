"""Part 2 of the demo, as far as passports go today: a Lankao rice cooperative's bags,
from the field inspection to a shop abroad.

The cooperative, the food-safety bureau, a carrier, customs and a retailer are each
verified once in the identity registry (an organisation's record commits to its
registration data, with its founding date as date of birth) and given their passport
role. Bags of rice are commissioned by lot; one lot fails inspection and is quarantined
until it passes a re-inspection; the bags travel in a container that customs clears for
export once; the shop abroad receives and sells them. A recall of one lot flags exactly
its bags, and a cloned code scanned in a second shop shows as sold already.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_account import Account
from web3.types import Wei

from chainpass.attributes import Credential
from chainpass.chain import Chain
from chainpass.deployment import Deployment
from chainpass.gs1 import ProductKey
from chainpass.identity import IdentityRegistry, Level
from chainpass.passport import BizStep, Disposition, EpcisEvent, ProductPassports, Role, location_id

RICE_GTIN = "09506000134352"
YEAR = 365 * 24 * 3600
ORGANISATIONS = {
    "cooperative": ("Lankao Dongba Rice Cooperative", Role.PRODUCER),
    "bureau": ("Lankao Food Safety Bureau", Role.INSPECTOR),
    "carrier": ("Henan Cold Chain Logistics", Role.CARRIER),
    "customs": ("Zhengzhou Customs", Role.CUSTOMS),
    "shop": ("Rotterdam Asia Market", Role.RETAILER),
}


def run_passport_demo(chain: Chain, deployment: Deployment, say: Callable[[str], None] = print) -> list[str]:
    """Play part 2 on the registry and passports of ``deployment``; returns the codes a scan flags as recalled."""
    governor, authority = chain.dev_accounts()[:2]
    wallets = {key: Account.create() for key in ORGANISATIONS}
    for wallet in wallets.values():  # organisations pay their own gas
        chain.w3.eth.send_transaction({"from": governor, "to": wallet.address, "value": Wei(10**18)})
    orgs = {key: wallet.address for key, wallet in wallets.items()}
    registry = IdentityRegistry.from_deployment(chain, deployment)
    passports = ProductPassports.from_deployment(chain, deployment)
    expires = chain.latest_timestamp() + 10 * YEAR
    for key, (name, role) in ORGANISATIONS.items():
        company = {"name": name, "date_of_birth": "2001-05-01", "national_id": f"9141022{key.upper()}",
                   "address": "Henan, China"}  # fmt: skip
        registry.verify(Credential.issue(orgs[key], company), Level.HIGH, expires, sender=authority)
        passports.set_roles(orgs[key], role, sender=governor)
    say("10. Five organisations are verified once in the registry and get their passport roles: a rice")
    say("    cooperative (producer), the food-safety bureau (inspector), a carrier, customs and a shop abroad.")

    lots = [ProductKey.lot(RICE_GTIN, f"LK2026-{n}") for n in (1, 2)]
    bags = [ProductKey.item(RICE_GTIN, f"LK2026-{lot}-{n:03d}") for lot in (1, 2) for n in range(1, 4)]
    container = ProductKey.container(RICE_GTIN, "CONT-0001", 3)
    passports.commission(lots + bags, metadata_uri="https://coop.example/lk2026", sender=wallets["cooperative"])
    passports.commission([container], sender=wallets["cooperative"])
    lot_ids = [passports.passport_id(k) for k in lots]
    bag_ids = [passports.passport_id(k) for k in bags]
    container_id = passports.passport_id(container)
    say(f"11. The cooperative commissions 2 lots and {len(bags)} retail bags, e.g. {bags[0].digital_link()}")

    now = chain.latest_timestamp()
    field = location_id("urn:epc:id:sgln:9506000.00001.0")

    def record(event_for: int, step: BizStep, disposition: Disposition, actor: str) -> None:
        passports.record([EpcisEvent(event_for, step, disposition, now, field)], sender=wallets[actor])

    record(lot_ids[0], BizStep.INSPECTING, Disposition.CONFORMANT, "bureau")
    record(lot_ids[1], BizStep.INSPECTING, Disposition.NON_CONFORMANT, "bureau")
    quarantined = passports.passport(lot_ids[1])
    record(lot_ids[1], BizStep.INSPECTING, Disposition.CONFORMANT, "bureau")
    released = passports.passport(lot_ids[1])
    say(f"12. The bureau inspects: lot 1 passes; lot 2 fails and is {quarantined.state.label if quarantined else '?'}"
        f", then passes a re-inspection: {released.state.label if released else '?'}.")  # fmt: skip

    passports.pack(container_id, bag_ids, sender=wallets["carrier"])
    record(container_id, BizStep.SHIPPING, Disposition.IN_TRANSIT, "carrier")
    record(container_id, BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, "customs")
    inside = passports.passport(bag_ids[0])
    standing = inside.effective_state.label if inside else "?"
    say(f"13. The carrier packs the bags into container {container}; one shipping event and one customs")
    say(f"    clearance on the container cover every bag (a bag now stands {standing}).")

    record(container_id, BizStep.RECEIVING, Disposition.SELLABLE, "shop")
    passports.unpack(bag_ids, sender=wallets["shop"])
    record(bag_ids[0], BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD, "shop")
    say("14. The shop abroad receives the container, unpacks it and sells the first bag.")

    record(lot_ids[1], BizStep.RECALLING, Disposition.RECALLED, "cooperative")
    for bag_id in bag_ids[3:]:
        record(bag_id, BizStep.RECALLING, Disposition.RECALLED, "cooperative")
    flagged = [str(k) for k in bags if passports.verify(k).recalled]
    say("15. Lot 2 is recalled with its bags: a scan now flags exactly")
    say(f"    {', '.join(flagged)}.")
    clone = passports.verify(bags[0])
    say(f"16. A copy of the first bag's code is scanned in another shop: genuine={clone.genuine}, "
        f"state {clone.state.label}: the clone shows up.")  # fmt: skip
    say("    (Transformation lineage, so that a recall of a paddy lot reaches the bags milled from it, comes next.)")
    return flagged
