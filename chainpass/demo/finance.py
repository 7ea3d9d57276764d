"""Part 3 of the demo: trade finance over the passports of part 2 (issue 17, docs/finance.md).

The shop abroad orders three bags of the cooperative's next harvest and escrows their price
in dev dollars with a permit signed in the same transaction. The bags travel in a second
container; once it has left, the cooperative sells its receivable to the county bank (the
bank of part 1, a relying party of sector bank) at a 2% discount and is paid at once.
Customs clears the container, the shop takes custody and receives it, anyone settles the
lines, and the escrow pays the bank. A second order, on bags of a lot the cooperative then
recalls, is refunded to the shop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from chainpass.chain import Chain
from chainpass.deployment import Deployment
from chainpass.enums import BizStep, Disposition
from chainpass.finance import Stablecoin, TradeFinance
from chainpass.passport import EpcisEvent, ProductPassports, location_id, transformation_id
from chainpass.standards.gs1 import ProductKey

RICE_GTIN = "09506000134352"
#: A 5 kg bag's price abroad: 12.50 dev dollars (six decimals).
BAG_PRICE = 12_500_000
DAY = 24 * 3600


@dataclass(frozen=True)
class FinanceDemo:
    """What part 3 leaves on the chain, for whoever checks it."""

    paid_order: int
    refunded_order: int
    #: What the bank paid the cooperative, and what the escrow paid the bank.
    bank_paid: int
    bank_collected: int


def run_finance_demo(
    chain: Chain,
    deployment: Deployment,
    wallets: dict[str, LocalAccount],
    bank: ChecksumAddress,
    say: Callable[[str], None] = print,
) -> FinanceDemo:
    """Play part 3 with part 2's organisations (``wallets``) and part 1's ``bank``."""
    governor = chain.dev_accounts()[0]
    fin = TradeFinance.from_deployment(chain, deployment)
    passports = ProductPassports.from_deployment(chain, deployment)
    dollar = Stablecoin(chain, deployment.address("DevStablecoin"))
    coop, shop = wallets["cooperative"], wallets["shop"]
    for account in (shop.address, bank):
        dollar.mint(account, 1_000 * 10**6, sender=governor)
    now = chain.latest_timestamp()
    depot = location_id("urn:epc:id:sgln:9506000.00002.0")

    def record(ids: list[int], step: BizStep, disposition: Disposition, actor: LocalAccount) -> None:
        passports.record([EpcisEvent(tuple(ids), step, disposition, now, depot)], sender=actor)

    def harvest(lot: str, count: int) -> tuple[int, list[int]]:
        [paddy] = passports.commission([ProductKey.lot(RICE_GTIN, lot)], sender=coop)
        bags = [ProductKey.item(RICE_GTIN, f"{lot}-{n:03d}") for n in range(1, count + 1)]
        ids = passports.transform(transformation_id(f"lankao-bagging-{lot}"), [paddy], bags, sender=coop)
        return paddy, ids

    _paddy, bags = harvest("LK2026-P4", 3)
    deadline = now + 30 * DAY
    order, _ = fin.open_order(coop.address, dollar.address, [(b, BAG_PRICE) for b in bags], deadline, sender=shop)
    say(f"20. The shop abroad orders 3 bags of the next harvest (lot P4) at 12.50 dev dollars each: order {order}.")
    say("    It escrows 37.50 with a permit signed in the same transaction; the money pays when the chain")
    say("    shows the bags in the shop's hands, and goes back if they are recalled or late.")

    [box] = passports.commission([ProductKey.container(RICE_GTIN, "CONT-0002", 3)], sender=coop)
    passports.pack(box, bags, sender=coop)
    record([box], BizStep.SHIPPING, Disposition.IN_TRANSIT, coop)
    offer_deadline = chain.latest_timestamp() + DAY

    def hand_over(holder: LocalAccount, receiver: LocalAccount) -> None:
        offer = passports.custody_offer(box, receiver.address, deadline=offer_deadline)
        passports.accept_custody(passports.sign_offer(offer, signer=holder), sender=receiver)

    hand_over(coop, wallets["carrier"])
    part = fin.receivable(order).parts[0].part
    price = 3 * BAG_PRICE * 98 // 100
    before = dollar.balance_of(coop.address)
    offer = fin.sign(coop, fin.financing_offer(part, bank, price, chain.latest_timestamp() + DAY))
    fin.finance(offer, sender=bank)
    paid = dollar.balance_of(coop.address) - before
    say("21. The container CONT-0002 ships. The cooperative will not wait months: it signs an offer of its")
    say(f"    receivable to the county bank at 2% off; the bank takes it and pays {paid / 10**6:.2f} at once.")
    say("    The receivable (an ERC-721 part) is the bank's now: the escrow will pay whoever holds it.")

    record([box], BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, wallets["customs"])
    hand_over(wallets["carrier"], shop)
    record([box], BizStep.RECEIVING, Disposition.SELLABLE, shop)
    passports.unpack(bags, sender=shop)
    fin.settle(order, bags, sender=wallets["carrier"])
    collected, _ = fin.claim(part, sender=wallets["carrier"])
    say("22. Customs clears the container; the shop takes custody and receives it. The carrier settles the")
    say(f"    order (anyone may) and the escrow pays the bank {collected / 10**6:.2f}: the bags' price, on the")
    say("    chain's word that they arrived.")

    paddy, recalled_bags = harvest("LK2026-P5", 2)
    second, _ = fin.open_order(
        coop.address, dollar.address, [(b, BAG_PRICE) for b in recalled_bags], deadline, sender=shop
    )
    record([paddy], BizStep.RECALLING, Disposition.RECALLED, coop)
    before = dollar.balance_of(shop.address)
    fin.refund(second, recalled_bags, sender=wallets["carrier"])
    refunded = dollar.balance_of(shop.address) - before
    say(f"23. The shop orders 2 bags of lot P5 (order {second}); the cooperative then recalls P5 before")
    say(f"    shipping. Anyone calls the refund: the shop gets its {refunded / 10**6:.2f} back.")
    return FinanceDemo(order, second, paid, collected)
